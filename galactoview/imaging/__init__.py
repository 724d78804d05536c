"""Qt-free image display: pixel pipeline (PS3.3 C.11), decoding, caches, renderings."""
