"""Built-in actions, decoders, field types and operators, registered as plugins through the
same hooks any plugin uses (see :mod:`rules_engine.hookspecs`)."""
