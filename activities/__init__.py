"""Side effects the workflows ask for: database writes, mail, fan-out to other workflows."""
