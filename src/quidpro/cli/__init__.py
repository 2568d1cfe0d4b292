"""The ``quidpro`` command (a shell over the library; nothing imports it)."""
