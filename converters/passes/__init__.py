"""Graph passes over the IR, run in order by converters/api.py."""
