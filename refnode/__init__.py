"""refnode: a compact reference node for the gometa protocol."""
