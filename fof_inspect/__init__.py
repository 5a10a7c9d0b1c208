"""fof-inspect."""
