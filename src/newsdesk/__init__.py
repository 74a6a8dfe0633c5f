"""newsdesk: turn news articles from many outlets into checked stories."""

from .api import (
    JSON_FIELDS,
    Article,
    Cleaned,
    IngestProblem,
    IngestReport,
    RawDocument,
    Store,
    articles,
    clean_text,
    copy_info,
    export_articles,
    get_article,
    ingest,
    open_store,
    read,
    to_article,
)

__version__ = "0.1.0"

__all__ = [
    "JSON_FIELDS",
    "Article",
    "Cleaned",
    "IngestProblem",
    "IngestReport",
    "RawDocument",
    "Store",
    "__version__",
    "articles",
    "clean_text",
    "copy_info",
    "export_articles",
    "get_article",
    "ingest",
    "open_store",
    "read",
    "to_article",
]
