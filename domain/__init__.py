"""Pure competition rules: catalog, stages, calendar. No I/O, no frameworks; safe in the workflow sandbox."""
