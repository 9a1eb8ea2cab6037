"""The stand's runtime: the stacks that run the mocks, and what crosses between the processes of a
stand and a run.

- :mod:`.stack` — :class:`~.stack.EmbeddedStack`, replica processes on loopback;
  :mod:`.containers` — :class:`~.containers.ContainerStack`, replicas in Docker behind HAProxy,
  from the images :mod:`.images` builds; :mod:`.inprocess` — :class:`~.inprocess.InProcessStack`,
  the mocks inside the test process; :mod:`.protocol` — what all three share, and
  :mod:`.backends` — which class a ``--backend`` names;
  :mod:`.ports` — free loopback ports; :mod:`.seed` — bulk data written straight into a store;
- :mod:`.manifest` — ``stack.json``: where a running stack's services answer, its control token,
  and each replica (process or container), so another process can act on it;
- :mod:`.actions` — the one vocabulary of things done to a replica (kill, stop, pause, …) and
  one dispatch per backend, with the evidence that each took effect;
- :mod:`.tcpfaults` — the TCP fault layer in front of replicas (blackhole, reset, reset_answer, partition), and
  :mod:`.tcpfaults_control`, its control socket as other processes use it;
- :mod:`.records` — the records a load run writes and the reports read (requests, operations,
  canary samples, failover actions, the run's configuration), each with ``to_json``/``from_json``.
"""
