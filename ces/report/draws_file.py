"""The per-draw PSA results file (``ces run --draws-out``): one row per draw, .csv or .parquet."""

from __future__ import annotations

from pathlib import Path

from ces.errors import CesError


def write_draws(path: Path, psa, perspectives: list = ()) -> None:
    """Write :func:`ces.analysis.psa_tables.draws_table` to ``path`` atomically (.csv, or .parquet with pyarrow)."""
    from ces.analysis.psa_tables import draws_table
    from ces.report.atomic import write_bytes_atomic

    df = draws_table(psa, perspectives)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        write_bytes_atomic(path, df.to_csv(index=False).encode())
    elif suffix == ".parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise CesError("writing .parquet needs the pyarrow package (pip install pyarrow); use .csv instead") from None
        import io

        buf = io.BytesIO()
        df.to_parquet(buf, index=False)
        write_bytes_atomic(path, buf.getvalue())
    else:
        raise CesError(f"--draws-out must end in .csv or .parquet, got `{path.name}`")
