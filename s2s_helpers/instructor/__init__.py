"""The instructor's wing: making the lesson notebooks and grading a class.

``notebooks`` writes ``lessons/`` from ``solutions/`` (``s2s-course
make-lessons``). ``s2s-course grade`` is ``command``: it finds the students
(``submissions``), sends one task per (student, notebook) to a local pool or a
Dask cluster (``scheduling``), where ``grading`` runs the notebook in a
sandboxed kernel (``sandbox``, ``kernels``) with the grader's probes
(``probes``, ``probe_kernel``) and judges what they observed (``judging``);
the records and feedback are written by the grader alone (``records``,
``feedback``).

Taught in: docs/INSTRUCTORS.md
"""
