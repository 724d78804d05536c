"""Reuse the encoded measurement groups of findings that did not change between saves.

Autosave writes a whole new SR revision after every edit (PS3.3 C.17.2: a revision
replaces its predecessor), yet an edit changes one finding. Building the TID 1410 /
TID 1501 groups (PS3.16) of 50 findings and converting them to the DICOM JSON Model
(PS3.18 F.2) is most of a save; a :class:`GroupCache` keeps each group's dataset and
its JSON, keyed by the *value* of what it encodes (the frozen finding, its stored
location, the image classes it references), so a save re-encodes only the groups whose
inputs changed. The output is identical to encoding from scratch (tested byte for byte).

No library offers this: pydicom and highdicom build and serialise whole datasets.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset


class _JsonOnceDataset(Dataset):
    """A content item whose DICOM JSON is computed once and then reused.

    pydicom serialises a sequence item through :meth:`Dataset.to_json` with an
    identity ``dump_handler`` (``DataElement.to_json_dict``); this answers that call
    from the memo. The item must not change after it is cached (the cache owns it).
    """

    def __init__(self, source: Dataset) -> None:
        super().__init__(source)
        object.__setattr__(self, "_json_memo", None)

    def to_json(
        self,
        bulk_data_threshold: int = 1024,
        bulk_data_element_handler: Callable[[DataElement], str] | None = None,
        dump_handler: Callable[[dict[str, Any]], str] | None = None,
        suppress_invalid_tags: bool = False,
    ) -> str:
        if dump_handler is None or bulk_data_element_handler is not None:
            return super().to_json(
                bulk_data_threshold,
                bulk_data_element_handler,
                dump_handler,
                suppress_invalid_tags,
            )
        memo: dict[str, Any] | None = object.__getattribute__(self, "_json_memo")
        if memo is None:
            memo = self.to_json_dict(bulk_data_threshold, None, suppress_invalid_tags)
            object.__setattr__(self, "_json_memo", memo)
        return dump_handler(memo)


class GroupCache:
    """Encoded measurement groups by the value of what they encode.

    Entries not used by the latest encode are dropped when it ends
    (:meth:`end_encode`), so the cache holds one document's groups at most. Safe to use
    from one save thread while another thread waits (a lock guards the table).

    Attributes
    ----------
    hits, misses
        Groups reused and built by the latest encode (for tests and the benchmark).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[Hashable, tuple[Dataset, ...]] = {}
        self._used: set[Hashable] = set()
        self.hits = 0
        self.misses = 0

    def begin_encode(self) -> None:
        """Start an encode: count hits and misses, remember which entries it uses."""
        with self._lock:
            self._used = set()
            self.hits = 0
            self.misses = 0

    def groups(self, key: Hashable, build: Callable[[], Sequence[Dataset]]) -> list[Dataset]:
        """Return the groups cached under ``key``, building (and caching) them if absent.

        Parameters
        ----------
        key
            The value of everything the groups depend on; unhashable keys are not
            cached (the groups are built each time).
        build
            Builds the groups.

        Returns
        -------
        list of pydicom.dataset.Dataset
            The groups; the caller must not modify them.
        """
        try:
            hash(key)
        except TypeError:
            return list(build())
        with self._lock:
            found = self._entries.get(key)
            self._used.add(key)
            if found is not None:
                self.hits += len(found)
                return list(found)
        built = tuple(_JsonOnceDataset(group) for group in build())
        with self._lock:
            self._entries[key] = built
            self.misses += len(built)
        return list(built)

    def end_encode(self) -> None:
        """Drop the entries the encode just finished did not use."""
        with self._lock:
            self._entries = {k: v for k, v in self._entries.items() if k in self._used}

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
