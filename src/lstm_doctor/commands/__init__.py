"""Layer 6: what a user types. `lstm-doctor` (the Hydra `app`) and its subcommands `show`,
`compare`, `fix`, `diagnose`, `prove`, `sync`, `ui-check`, `server`, with `help` (every
`--help`, answered from conf/ without starting Hydra) and the MLproject entry (`mlproject`).
What they share lives with what it serves, in the folders below."""

LAYER = 6
