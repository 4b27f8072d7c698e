"""What a user types: `lstm-doctor` (the Hydra app) and its commands show, compare, fix,
ui-check, plus the MLproject entry and the sweep callback Hydra loads."""
