"""Process entry points that wire adapters, activities and workflows together; nothing imports these."""
