"""Stage 1, formatting: instruction records become prompt and response text (lesson 02).

Read first: templates.py (the one-line template and Alpaca's, `format_example`).
Then: schemas.py (Alpaca, Dolly, TRL and chat rows read into one shape), records.py (loading
files, embedded sets and Hub ids), stats.py (what a data set is made of; mixed formats),
chat.py (a template as a chat template: for lesson 05, and saved with every run).
Optional reading, how records.py reads a user's files: rows.py (bad rows said all at once),
file_bytes.py (gzip, encodings, files that are no text), json_files.py, table_files.py (CSV,
TSV) and via_datasets.py (Parquet, save_to_disk folders, Hub ids).
"""
