"""ces.modelfile: the input language — YAML reading with line maps, the schema, the safe expression language, units, names and size limits."""
