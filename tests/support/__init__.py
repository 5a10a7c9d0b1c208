"""What tests and bench/ share: the fake Ollama server (`fake_ollama`), scripted model answers
(`scripted_model`), sandbox helpers (`sandbox`), genome builders (`genomes`) and the real-model servers
(`real_models`, `llama_server`, `graded`).

tests/conftest.py only registers fixtures built from these; test modules import helpers from
here, never from each other or from conftest.
"""
