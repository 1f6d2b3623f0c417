"""The checks, one module per lesson; each module registers its exercises with `@exercise`.

Keep module-level imports light (no torch, no transformers): every grading process imports
all of them. Import heavy things inside the check function that needs them.
"""
