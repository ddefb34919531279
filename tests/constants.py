"""Values many test folders share."""

# A session key that passes the app's strength check (random-looking, 64 hex digits).
TEST_SECRET = "9f2c4e7a1b3d5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8"

# A Fernet key for the credentials tests seal (MAKERIGHT_SECRET_KEYS).
TEST_FERNET_KEY = "7mJ3y0yVtJ0JqgKxQ8n2hXb5wqk0b5l2l0Y3Qm1wq3E="
