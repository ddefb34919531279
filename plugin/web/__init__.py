"""The review queue: server-rendered pages for people who read, edit, approve and post replies."""
