"""Hard-negative sound-source localizer (thesis chapter 5): two streams, cosine map, tri-map loss."""
