"""Capture tooling: decode gometa frames out of pcap files.

``reassembly`` is pure (parsed packets in, frames out); ``pcap`` reads files
with scapy; ``layers`` holds scapy layers pinned to ``wire``; ``cli`` is
``gmc capture``.
"""
