"""Getting text in: files -> documents -> paragraphs.

    files     the corpus files: listing, hashing, atomic writes
    formats   HTML, PDF and JSON documents read into text with their spans
    readers   a corpus folder (txt/md, JSONL, BEIR, HTML, PDF) read into documents
    clean     scraped-page debris dropped, fragments joined, long blocks cut
    corpus    documents split into cleaned, deduplicated paragraphs with verbatim spans
    adding    documents added to and removed from the corpus's added/ folder
"""
