"""`conveyor datasets upload|list|show|preview|rows|download`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from app.client_cli import OK, UsageError, command
from app.client_cli.config import connect, uploads_dir
from app.client_cli.output import Output

DATASET_FIELDS = ("id", "name", "status", "row_count", "current_version", "last_error", "created_at", "updated_at")
LIST_COLUMNS = ("id", "name", "status", "row_count", "current_version", "updated_at")


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    datasets = commands.add_parser("datasets", help="upload, import, read and download datasets")
    sub = datasets.add_subparsers(dest="datasets_command", required=True)

    reading = argparse.ArgumentParser(add_help=False)
    reading.add_argument("--sheet", help="a workbook's sheet: its name or 0-based index")
    reading.add_argument("--header-row", type=int, help="the header's row (0-based; default: detected)")
    reading.add_argument("--delimiter", help="a CSV's delimiter (default: detected)")
    reading.add_argument("--encoding", help="the text's encoding (default: detected)")

    upload = sub.add_parser(
        "upload", parents=[common, reading], help="upload a file (resumable: rerun after an interruption)"
    )
    upload.add_argument("file", type=Path)
    upload.add_argument("--name", help="the dataset's name (default: the file's name)")
    upload.add_argument("--namespace", default="default")
    upload.add_argument("--description", default="")
    upload.add_argument("--tag", action="append", help="a tag (repeatable)")
    upload.add_argument("--chunk-size", type=int, default=8 * 1024 * 1024, help="bytes per request (default 8 MiB)")
    upload.add_argument("--import", dest="import_", action="store_true", help="import it into a new version")
    upload.add_argument("--wait", action="store_true", help="with --import: wait for it (exit 1 if it fails)")
    command(upload, _upload)

    listing = sub.add_parser("list", parents=[common], help="datasets, newest first")
    listing.add_argument("--search")
    listing.add_argument("--limit", type=int, default=20)
    command(listing, _list)

    show = sub.add_parser("show", parents=[common], help="one dataset")
    show.add_argument("dataset_id")
    command(show, _show)

    preview = sub.add_parser("preview", parents=[common, reading], help="how the uploaded file reads: columns, rows")
    preview.add_argument("dataset_id")
    preview.add_argument("--rows", type=int, default=10)
    command(preview, _preview)

    rows = sub.add_parser("rows", parents=[common], help="rows of the current (or a given) version")
    rows.add_argument("dataset_id")
    rows.add_argument("--offset", type=int, default=0)
    rows.add_argument("--limit", type=int, default=20)
    rows.add_argument("--version", type=int)
    command(rows, _rows)

    download = sub.add_parser("download", parents=[common], help="save a version as csv, json, parquet or the raw file")
    download.add_argument("dataset_id")
    download.add_argument("-o", "--output", type=Path, help="default: <dataset id>.<format>")
    download.add_argument("--format", choices=["csv", "json", "parquet", "raw"], default="csv")
    download.add_argument("--version", type=int)
    command(download, _download)


def reading_config(args: argparse.Namespace) -> dict[str, Any]:
    """The import settings given on the command line (an ImportConfig document); the rest is detected."""
    config: dict[str, Any] = {}
    if args.sheet is not None:
        config["sheet"] = int(args.sheet) if args.sheet.isdigit() else args.sheet
    if args.header_row is not None:
        config["header_row"] = args.header_row
    if args.delimiter:
        config["delimiter"] = args.delimiter
    if args.encoding:
        config["encoding"] = args.encoding
    return config


def _upload(args: argparse.Namespace, out: Output) -> int:
    from app.client import RunFailed

    if not args.file.is_file():
        raise UsageError(f"no file {args.file}")
    if args.wait and not args.import_:
        raise UsageError("--wait needs --import")
    if reading_config(args) and not args.import_:
        raise UsageError("--sheet, --header-row, --delimiter and --encoding are import settings: add --import")
    resumed = False
    with connect() as client:
        with out.progress(f"uploading {args.file.name}", args.file.stat().st_size, bytes_=True) as update:

            def progress(sent: int, total: int, was_resumed: bool) -> None:
                nonlocal resumed
                resumed = was_resumed
                update(sent, total, f"{'resuming' if was_resumed else 'uploading'} {args.file.name}")

            dataset: Any = client.upload_file(
                args.file,
                name=args.name,
                namespace=args.namespace,
                description=args.description,
                tags=args.tag,
                chunk_size=args.chunk_size,
                state_dir=uploads_dir(),
                on_progress=progress,
            )
        result: dict[str, Any] = {**dataset, "resumed": resumed}
        if args.import_:
            run = client.import_dataset(dataset["id"], reading_config(args))
            result["import_run_id"] = run["id"]
            if args.wait:
                out.line(f"importing into dataset {dataset['id']}…")
                dataset = client.wait_for_dataset(dataset["id"], run["id"])
                result.update(dataset)
                if dataset["status"] != "ready":
                    out.doc(result, ("id", "name", "status", "last_error", "import_run_id"))
                    raise RunFailed({"id": run["id"], "status": f"FAILED ({dataset.get('last_error')})"})
    out.doc(result, (*DATASET_FIELDS, "resumed", "import_run_id"))
    return OK


def _list(args: argparse.Namespace, out: Output) -> int:
    from app.client import flows

    with connect() as client:
        items = []
        for item in client.paginate(flows.list_datasets, limit=min(args.limit, 200), search=args.search):
            items.append(item)
            if len(items) >= args.limit:
                break
    out.table(items, LIST_COLUMNS, title="datasets")
    return OK


def _show(args: argparse.Namespace, out: Output) -> int:
    with connect() as client:
        out.doc(client.get_dataset(args.dataset_id), DATASET_FIELDS)
    return OK


def _preview(args: argparse.Namespace, out: Output) -> int:
    with connect() as client:
        preview = client.preview_dataset(args.dataset_id, reading_config(args), rows=args.rows)
    if out.json:
        out.doc(preview)
    else:
        names = [c.get("name", str(i)) for i, c in enumerate(preview["columns"])]
        out.table(
            [dict(zip(names, row, strict=False)) for row in preview["rows"]], names, title=preview.get("detected")
        )
    return OK


def _rows(args: argparse.Namespace, out: Output) -> int:
    with connect() as client:
        rows = client.dataset_rows(args.dataset_id, offset=args.offset, limit=args.limit, version=args.version)
    if out.json:
        out.doc(rows)
    else:
        names = [c.get("name", "") for c in rows["columns"]]
        title = f"rows {rows['offset'] + 1}-{rows['offset'] + len(rows['rows'])} of {rows['total']}"
        out.table([dict(zip(names, row, strict=False)) for row in rows["rows"]], names, title=title)
    return OK


def _download(args: argparse.Namespace, out: Output) -> int:
    dest = args.output or Path(f"{args.dataset_id}.{'bin' if args.format == 'raw' else args.format}")
    with connect() as client:
        path = client.download_dataset(args.dataset_id, dest, format=args.format, version=args.version)
    out.doc({"path": str(path), "bytes": path.stat().st_size})
    return OK
