"""AVST: audio-visual synchronisation with Transformers (thesis chapter 6)."""
