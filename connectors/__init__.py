"""Review platforms behind one small interface. Nothing here imports `plugin`."""
