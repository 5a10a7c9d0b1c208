"""The Docker sandbox: provider (`fof_docker`), in-container supervisor and image build."""
