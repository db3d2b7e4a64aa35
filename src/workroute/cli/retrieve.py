"""``workroute retrieve``: the deployed metadata files back, as a folder or a zip."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Annotated

import typer

from workroute.kernel.errors import DeployError, WorkrouteError


def retrieve_command(
    manifest: Annotated[
        Path | None, typer.Option("--manifest", help="A package.xml naming what to retrieve.")
    ] = None,
    types: Annotated[
        list[str] | None,
        typer.Option("--type", help="A metadata type (with --member; repeatable)."),
    ] = None,
    members: Annotated[
        list[str] | None,
        typer.Option("--member", help="A member of the last --type ('*' for all; repeatable)."),
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Write the files into this folder.")
    ] = None,
    zip_path: Annotated[Path | None, typer.Option("--zip", help="Write the zip here.")] = None,
    db: Annotated[
        Path | None,
        typer.Option("--db", help="SQLite file of the org (WORKROUTE_DATABASE_URL replaces it)."),
    ] = None,
) -> None:
    """Retrieve deployed metadata (the bytes that were deployed) in the Metadata API layout.

    Name what to retrieve with --manifest, or with --type and --member (one type, any
    number of members, '*' for all of them)."""
    from workroute.cli.main import err, fail, open_org, out
    from workroute.metadata.retrieve import manifest_for, read_manifest, retrieve

    if (out_dir is None) == (zip_path is None):
        fail("give one of --out DIR or --zip FILE")
    if (manifest is None) == (not types):
        fail("give --manifest, or --type with --member")
    try:
        if manifest is not None:
            if not manifest.is_file():
                fail(f"no file {manifest}")
            wanted = read_manifest(manifest.read_bytes(), manifest.name)
        else:
            if not types or len(types) != 1 or not members:
                fail("give one --type and at least one --member")
            wanted = manifest_for({types[0]: list(members)})
    except DeployError as exc:
        fail("; ".join(p.describe() for p in exc.problems))
    except WorkrouteError as exc:
        fail(exc.message)
    org = open_org(db)
    try:
        result = retrieve(org, wanted)
    finally:
        org.close()
    for _file, problem in result.messages:
        err.print(f"[yellow]warning:[/] {problem}", highlight=False)
    if zip_path is not None:
        zip_path.write_bytes(result.zip_file)
        out.print(f"Wrote {len(result.files) - 1} component(s) to {zip_path}.")
        return
    assert out_dir is not None
    root = out_dir.resolve()
    with zipfile.ZipFile(io.BytesIO(result.zip_file)) as zf:
        for name in zf.namelist():
            target = (root / name.removeprefix("unpackaged/")).resolve()
            if not target.is_relative_to(root):
                fail(f"refusing to write {name} outside {out_dir}")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(zf.read(name))
    out.print(f"Wrote {len(result.files) - 1} component(s) to {out_dir}.")
