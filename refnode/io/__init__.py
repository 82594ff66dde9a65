"""Drivers: the only part of refnode that touches sockets, clocks and disks."""
