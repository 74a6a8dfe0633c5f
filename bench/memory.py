"""Where a process's memory is: its RSS, what the story index holds by part, and what
the C allocator keeps after Python has freed it.

Used by ``bench_store_load.py --memory``. Sizes of Python containers follow
CPython's ``sys.getsizeof`` (a dict's or list's own table, plus each str and int
object it owns); numpy arrays count their ``nbytes`` plus the array object. Shared
small ints and interned strings are counted once per container, so the figures are
upper bounds by a few percent, in line with pympler's ``asizeof`` (checked by hand
on a 20,000-article index: within 3 %).
"""

from __future__ import annotations

import ctypes
import gc
import sys
from pathlib import Path
from typing import Any

import numpy as np


def rss_mb() -> float:
    """The process's resident set now (VmRSS), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def trim() -> bool:
    """Collect garbage and ask glibc to hand freed heap pages back to the system
    (``malloc_trim(0)``); False where there is no glibc."""
    gc.collect()
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    libc.malloc_trim(0)
    return True


def _arr(a: np.ndarray) -> int:
    return sys.getsizeof(a) if a.base is None else sys.getsizeof(a) + a.nbytes


def _strs(xs: Any) -> int:
    return sum(sys.getsizeof(x) for x in xs)


def index_parts(index: Any) -> dict[str, int]:
    """Bytes held by a ``StoryIndex``, by part (see the module docstring for how)."""
    from newsdesk.stories import HNSWIndex

    stories = 0
    for st in index._stories.values():  # noqa: SLF001
        stories += sys.getsizeof(st) + sys.getsizeof(st.id) + (0 if st.emb_sum is None else _arr(st.emb_sum))
        stories += sys.getsizeof(st.members) + _strs(st.members)
        stories += _arr(st.ids) + _arr(st.w)  # both profiles
    stories += sys.getsizeof(index._stories)  # noqa: SLF001
    vocab = (sys.getsizeof(index._vocab) + _strs(index._vocab) + _strs(index._vocab.values())  # noqa: SLF001
             + sys.getsizeof(index._terms) + _arr(index._dfa))  # noqa: SLF001
    vec = index._vectors  # noqa: SLF001
    vectors = int(vec.to_bytes().nbytes) if isinstance(vec, HNSWIndex) else _arr(vec._data)  # noqa: SLF001
    ids = (sys.getsizeof(index._article_ids) + _strs(index._article_ids)  # noqa: SLF001
           + sys.getsizeof(index._row) + _strs(index._row.values())  # noqa: SLF001
           + sys.getsizeof(index._story_of) + sys.getsizeof(index._pins))  # noqa: SLF001
    return {"stories": stories, "vocabulary": vocab, "vectors": vectors, "ids": ids,
            "all": stories + vocab + vectors + ids}


def story_record(index: Any) -> dict[str, float]:
    """What one story of ``index`` costs on average, by part (bytes, as ``index_parts``
    counts them), and what the stories are like: how many have one member, how many
    profile terms and names they hold. Says which part of the record to shrink."""
    sts = list(index._stories.values())  # noqa: SLF001
    n = max(len(sts), 1)
    emb = sum(_arr(st.emb_sum) for st in sts if st.emb_sum is not None)
    entries = sum(st.ids.nbytes + st.w.nbytes for st in sts)
    # the profile arrays' objects themselves (``_arr`` less the data)
    headers = sum(_arr(st.ids) - st.ids.nbytes + _arr(st.w) - st.w.nbytes for st in sts)
    members = sum(sys.getsizeof(st.members) + _strs(st.members) for st in sts)
    objects = sum(sys.getsizeof(st) + sys.getsizeof(st.id) for st in sts) + sys.getsizeof(index._stories)  # noqa: SLF001
    return {
        "stories": len(sts),
        "one_member_share": round(sum(len(st.members) == 1 for st in sts) / n, 3),
        "mean_terms": round(sum(len(st.terms) for st in sts) / n, 1),
        "mean_names": round(sum(len(st.names) for st in sts) / n, 1),
        "bytes_summed_vector": round(emb / n),
        "bytes_profile_entries": round(entries / n),
        "bytes_profile_objects": round(headers / n),
        "bytes_members": round(members / n),
        "bytes_story_objects": round(objects / n),
        "bytes_all": round((emb + entries + headers + members + objects) / n),
    }
