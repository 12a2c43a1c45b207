"""FAKE modules.call_queue: the queue lock."""

import threading

queue_lock = threading.Lock()
