"""Qt-free reading semantics: hanging protocols, corner text, the reading session."""
