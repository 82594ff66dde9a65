"""Pure, deterministic protocol core: no sockets, no clocks, no global randomness."""
