"""Repositories `ownership` ships: `memory` (the embedded default); SQL follows as an extra."""
