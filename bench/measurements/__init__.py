"""The node-server measurements, one module each, named by what they
measure; measurements that share a server and a table form a part:

  unix_socket   snapshot, encoders, server_memory, rpc_roundtrip  (was issue2)
  tls           tls
  live_data     event_throughput, map_watch                       (was events)
  attach        attach_latency, startup_adoption
  fleet_apply   fleet_apply                                       (was fleet)
  object_upload object_upload                                     (was upload)
  abuse         abuse
  iterators     iterator_read                                     (iter)
  stacks        stack_symbolize
  python_client python_client                                     (python)
  node_inventory node_inventory                                   (inventory)
  probe_verify  probe_verify                                      (verify)
  map_export    map_export                                        (export)

BENCH_ONLY names parts by any of their measurements, or by the old name."""
from __future__ import annotations

from . import (abuse, attach, fleet_apply, iterator_read, live_data, map_export, node_inventory, object_upload,
               probe_verify, python_client, stack_symbolize, tls, unix_socket)
from .common import Part

PARTS: list[Part] = [unix_socket.PART, tls.PART, live_data.PART, attach.PART, fleet_apply.PART, object_upload.PART,
                     abuse.PART, iterator_read.PART, stack_symbolize.PART, python_client.PART, node_inventory.PART,
                     probe_verify.PART, map_export.PART]


def names() -> list[str]:
    """Every name BENCH_ONLY takes: the measurements, then the old part names."""
    found = [m for part in PARTS for m in part.measurements]
    return found + [part.old_name for part in PARTS if part.old_name not in found]


def choose(words: list[str]) -> list[Part]:
    """The parts BENCH_ONLY's words name, in the run's order; ValueError for a word that names none."""
    for word in words:
        if not any(word in part.measurements or word == part.old_name for part in PARTS):
            raise ValueError(word)
    return [part for part in PARTS if any(word in part.measurements or word == part.old_name for word in words)]
