"""The `makeright` command line, one module per group; `main` assembles them."""
