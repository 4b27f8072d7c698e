"""Studies of the doctor and of LSTM folklore, each a folder with its script (`python -m
studies.<name>`), a README (what it measures, how to rerun it, its table) and its figures.
The instruments that time the project itself (overhead, CLI speed, throughput, scale-out)
are in bench/."""
