"""External eligibility checks behind ports: the dishonest lists and the organiser-affiliation list."""
