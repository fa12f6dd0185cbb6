#!/usr/bin/python3
"""A Python OpenStack peer for novafs's interop tests
(tests/integration/oslo_interop.sh), on Debian's python3-oslo.messaging.

  oslo_peer.py CONF URL call TOPIC[.SERVER] METHOD ARGS [--version V]
                            [--monitor S] [--timeout S]
  oslo_peer.py CONF URL cast TOPIC[.SERVER] METHOD ARGS
  oslo_peer.py CONF URL fanout TOPIC METHOD ARGS
  oslo_peer.py CONF URL serve TOPIC SERVER
  oslo_peer.py CONF URL notifications
  oslo_peer.py CONF URL replay DATA ROUTING_KEY
  oslo_peer.py CONF URL heartbeats DATA ROUTING_KEY

CONF is an identity file of tests/lib/broker.sh ([amqp] user, password);
URL the test's amqp://HOST:PORT/VHOST.  The password goes from the file
into the transport URL in memory, never onto a command line.  Every peer
is configured as novafs's services expect: control_exchange novafs,
amqp_durable_queues true.

call prints {"result": ...} or {"error": {"class", "exc_type", "value"}}.
serve runs an RPC server whose endpoint answers as a compute host
(terminate_instance, get_instance_state, start_instance, stop_instance,
publish_service_capabilities) plus echo and fail, prints each request it
handles as a JSON line and "serving" on stderr once consuming, until
SIGTERM.  notifications runs oslo's notification listener on topic
notifications and prints each notification as a JSON line {"priority",
"event_type", "publisher_id", "payload"}, and "listening" on stderr once
consuming, until SIGTERM.  replay publishes, by hand (python3-amqp), the requests of DATA's
unsupported_version section that went to a version 1.3 server, and
compares the replies field by field with oslo's; heartbeats does the same
for call_monitor's raw calls; both print "ok ..." or "FAIL ..." lines and
exit 1 on any FAIL.
"""

import argparse
import configparser
import json
import os
import signal
import socket
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid

import amqp
from oslo_config import cfg
import oslo_messaging
from oslo_messaging._metrics import client as metrics_client

REPLY_QUEUE = 'oslo_peer_reply_' + uuid.uuid4().hex


def identity(conf_path, url):
    """The user, password and transport pieces for url."""
    ini = configparser.ConfigParser(interpolation=None)
    ini.read(conf_path)
    u = urllib.parse.urlparse(url)
    vhost = u.path[1:] or '/'
    return ini['amqp']['user'], ini['amqp']['password'], u.hostname, \
        u.port or 5672, vhost


def transport(conf_path, url, notifications=False):
    user, password, host, port, vhost = identity(conf_path, url)
    fd, path = tempfile.mkstemp(suffix='.conf', prefix='oslo-peer-')
    with os.fdopen(fd, 'w') as f:
        f.write('[DEFAULT]\ncontrol_exchange = novafs\n'
                '[oslo_messaging_rabbit]\namqp_durable_queues = true\n')
    conf = cfg.ConfigOpts()
    conf(args=[], project='oslo-peer', default_config_files=[path])
    os.unlink(path)
    # The RPC client's metrics hook reads these, which oslo.messaging
    # registers on the global cfg.CONF only.
    conf.register_opts(metrics_client.oslo_messaging_metrics,
                       group='oslo_messaging_metrics')
    turl = 'rabbit://%s:%s@%s:%d/%s' % (
        urllib.parse.quote(user, safe=''), urllib.parse.quote(password, safe=''),
        host, port, urllib.parse.quote(vhost, safe=''))
    if notifications:
        return oslo_messaging.get_notification_transport(conf, url=turl)
    return oslo_messaging.get_rpc_transport(conf, url=turl)


def target_of(spec, version=None):
    topic, _, server = spec.partition('.')
    return oslo_messaging.Target(topic=topic, server=server or None,
                                 version=version)


CTXT = {'request_id': 'req-interop', 'user_id': 'u1', 'project_id': 'p1'}


def do_call(t, a):
    kw = {}
    if a.monitor:
        kw['call_monitor_timeout'] = a.monitor
    client = oslo_messaging.get_rpc_client(
        t, target_of(a.target, a.version), timeout=a.timeout, **kw)
    try:
        out = {'result': client.call(CTXT, a.method, **json.loads(a.args))}
    except oslo_messaging.RemoteError as e:
        out = {'error': {'class': type(e).__name__, 'exc_type': e.exc_type,
                         'value': e.value}}
    except oslo_messaging.MessagingTimeout as e:
        out = {'error': {'class': type(e).__name__, 'value': str(e)}}
    print(json.dumps(out, sort_keys=True))


def do_cast(t, a, fanout=False):
    target = target_of(a.target)
    if fanout:
        target.fanout = True
    oslo_messaging.get_rpc_client(t, target).cast(CTXT, a.method,
                                                  **json.loads(a.args))


class ComputeEndpoint:
    """What a compute host answers, as a Python service would."""

    # The version of topic compute (rpc/methods_compute.c) it implements.
    target = oslo_messaging.Target(version='1.4')

    def __init__(self):
        self.lock = threading.Lock()

    def _seen(self, ctxt, method, **args):
        with self.lock:
            print(json.dumps({'method': method, 'args': args,
                              'request_id': ctxt.get('request_id')},
                             sort_keys=True), flush=True)

    def terminate_instance(self, ctxt, instance):
        self._seen(ctxt, 'terminate_instance', instance=instance)

    def get_instance_state(self, ctxt, instance):
        self._seen(ctxt, 'get_instance_state', instance=instance)
        # Outside the declaration, to be refused by novafs.
        if instance.get('name') == 'weird':
            return {'gone': True}
        return {'exists': True, 'power_state': 'running', 'flavor': 'm1.tiny'}

    def start_instance(self, ctxt, instance, expected_task_state):
        self._seen(ctxt, 'start_instance', instance=instance,
                   expected_task_state=expected_task_state)

    def stop_instance(self, ctxt, instance, expected_task_state,
                      clean_shutdown=False):
        self._seen(ctxt, 'stop_instance', instance=instance,
                   expected_task_state=expected_task_state,
                   clean_shutdown=clean_shutdown)

    def publish_service_capabilities(self, ctxt):
        self._seen(ctxt, 'publish_service_capabilities')

    def echo(self, ctxt, text):
        self._seen(ctxt, 'echo', text=text)
        return {'echoed': text}

    def fail(self, ctxt):
        raise ValueError('the Python peer refuses')


def do_serve(t, a):
    server = oslo_messaging.get_rpc_server(
        t, oslo_messaging.Target(topic=a.topic, server=a.server),
        [ComputeEndpoint()], executor='threading')
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server.start()
    print('serving', file=sys.stderr, flush=True)
    while not stop.wait(0.2):
        pass
    server.stop()
    server.wait()


class NotificationEndpoint:
    """Prints every notification, whatever its priority."""

    def __init__(self):
        self.lock = threading.Lock()

    def _seen(self, priority, publisher_id, event_type, payload):
        with self.lock:
            print(json.dumps({'priority': priority, 'event_type': event_type,
                              'publisher_id': publisher_id,
                              'payload': payload}, sort_keys=True),
                  flush=True)

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        self._seen('info', publisher_id, event_type, payload)

    def error(self, ctxt, publisher_id, event_type, payload, metadata):
        self._seen('error', publisher_id, event_type, payload)


def do_notifications(t):
    listener = oslo_messaging.get_notification_listener(
        t, [oslo_messaging.Target(topic='notifications')],
        [NotificationEndpoint()], executor='threading')
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    listener.start()
    print('listening', file=sys.stderr, flush=True)
    while not stop.wait(0.2):
        pass
    listener.stop()
    listener.wait()


class RawPeer:
    """A hand-made RPC client on python3-amqp with its own reply queue, as
    tests/tools/oslo_capture.py made the captures."""

    def __init__(self, conf_path, url):
        user, password, host, port, vhost = identity(conf_path, url)
        self.conn = amqp.Connection('%s:%d' % (host, port), userid=user,
                                    password=password, virtual_host=vhost)
        self.conn.connect()
        self.ch = self.conn.channel()
        self.ch.queue_declare(REPLY_QUEUE, durable=False, auto_delete=True)
        self.got = []
        self.ch.basic_consume(REPLY_QUEUE, no_ack=True,
                              callback=lambda m: self.got.append(
                                  (time.monotonic(), m)))

    def call(self, routing_key, message, timeout=15):
        """Publishes message (the oslo.message dict) with _reply_q ours,
        and returns [(t, properties, body)] up to the ending reply."""
        message = dict(message, _reply_q=REPLY_QUEUE,
                       _msg_id=uuid.uuid4().hex, _unique_id=uuid.uuid4().hex)
        body = {'oslo.version': '2.0', 'oslo.message': json.dumps(message)}
        self.got = []
        t0 = time.monotonic()
        self.ch.basic_publish(
            amqp.Message(json.dumps(body), content_type='application/json',
                         content_encoding='utf-8', application_headers={},
                         delivery_mode=2, priority=0),
            exchange='novafs', routing_key=routing_key)
        replies = []
        while time.monotonic() < t0 + timeout:
            try:
                self.conn.drain_events(timeout=0.1)
            except socket.timeout:
                pass
            for t, m in self.got:
                inner = json.loads(json.loads(m.body)['oslo.message'])
                replies.append((round(t - t0, 3), m.properties,
                                json.loads(m.body), inner))
                if inner.get('ending'):
                    return message, replies
            self.got = []
        raise RuntimeError('no final reply to %s' % message['method'])


class Verdicts:
    def __init__(self):
        self.failed = 0

    def check(self, ok, what):
        print('%s %s' % ('ok' if ok else 'FAIL', what), flush=True)
        self.failed += 0 if ok else 1


FAILURE_KEYS = ('class', 'module', 'message', 'args', 'kwargs')


def do_replay(a):
    data = json.load(open(a.data))['unsupported_version']
    peer = RawPeer(a.conf, a.url)
    v = Verdicts()
    for name, case in sorted(data.items()):
        if not isinstance(case, dict) or case.get('routing_key') != 'vectors.hostA':
            continue
        want = case['replies'][0]
        want_inner = json.loads(want['body']['oslo.message'])
        sent, replies = peer.call(a.routing_key,
                                  json.loads(case['request']['oslo.message']))
        v.check(len(replies) == len(case['replies']) == 1,
                '%s: one reply, as oslo' % name)
        _, props, body, inner = replies[-1]
        ours = {k: props.get(k) for k in ('content_type', 'content_encoding',
                                          'delivery_mode', 'priority')}
        v.check(ours == {k: want['properties'][k] for k in ours} and
                props.get('application_headers') in ({}, None) and
                'expiration' not in props,
                '%s: properties as oslo\'s %s' % (name, json.dumps(ours)))
        v.check(props.get('user_id') == 'compute-node1',
                '%s: plus user_id (oslo sends none)' % name)
        v.check(sorted(body) == sorted(want['body']) and
                body['oslo.version'] == want['body']['oslo.version'],
                '%s: envelope as oslo\'s' % name)
        v.check(sorted(inner) == sorted(want_inner) and
                inner['ending'] is True and inner['_msg_id'] == sent['_msg_id'],
                '%s: reply keys %s as oslo\'s' % (name, sorted(inner)))
        if want_inner['failure']:
            got_f = json.loads(inner['failure'])
            want_f = json.loads(want_inner['failure'])
            v.check(inner['result'] is None and sorted(got_f) == sorted(want_f),
                    '%s: failure keys as oslo\'s' % name)
            for k in FAILURE_KEYS:
                v.check(got_f.get(k) == want_f.get(k),
                        '%s: failure %s %s' % (name, k, json.dumps(got_f.get(k))))
            v.check(isinstance(got_f.get('tb'), list), '%s: tb is a list' % name)
        else:
            v.check(inner['failure'] is None and
                    inner['result']['echoed'] == want_inner['result']['echoed'],
                    '%s: served, echoing %s' % (name, inner['result']))
    sys.exit(1 if v.failed else 0)


def do_heartbeats(a):
    data = json.load(open(a.data))['call_monitor']
    peer = RawPeer(a.conf, a.url)
    v = Verdicts()
    for name in ('raw_timeout_2', 'raw_timeout_3', 'raw_timeout_1'):
        case = data[name]
        timeout = int(name.rsplit('_', 1)[1])
        msg = {'method': 'sleep', 'args': {'ms': 3500}, '_timeout': timeout,
               '_context_request_id': 'req-0002'}
        _, replies = peer.call(a.routing_key, msg)
        beats = [t for t, _, _, inner in replies if not inner['ending']]
        want = case['heartbeats_at']
        v.check(len(beats) == len(want) and
                all(abs(b - w) < 0.35 for b, w in zip(beats, want)),
                '%s: heartbeats at %s, oslo\'s at %s' % (name, beats, want))
        _, props, _, last = replies[-1]
        v.check(all(inner['result'] is None and inner['failure'] is None
                    for _, _, _, inner in replies[:-1]) and
                last['result'] == {'slept': 3500} and replies[-1][0] >= 3.5,
                '%s: then the result, after %s s' % (name, replies[-1][0]))
    sys.exit(1 if v.failed else 0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('conf')
    p.add_argument('url')
    sub = p.add_subparsers(dest='cmd', required=True)
    for name in ('call', 'cast'):
        s = sub.add_parser(name)
        s.add_argument('target')
        s.add_argument('method')
        s.add_argument('args')
        s.add_argument('--version')
        s.add_argument('--monitor', type=int)
        s.add_argument('--timeout', type=int, default=10)
    s = sub.add_parser('fanout')
    s.add_argument('target')
    s.add_argument('method')
    s.add_argument('args')
    s = sub.add_parser('serve')
    s.add_argument('topic')
    s.add_argument('server')
    sub.add_parser('notifications')
    for name in ('replay', 'heartbeats'):
        s = sub.add_parser(name)
        s.add_argument('data')
        s.add_argument('routing_key')
    a = p.parse_args()
    if a.cmd in ('replay', 'heartbeats'):
        return (do_replay if a.cmd == 'replay' else do_heartbeats)(a)
    t = transport(a.conf, a.url, notifications=a.cmd == 'notifications')
    try:
        if a.cmd == 'notifications':
            do_notifications(t)
        elif a.cmd == 'call':
            do_call(t, a)
        elif a.cmd in ('cast', 'fanout'):
            do_cast(t, a, fanout=a.cmd == 'fanout')
        else:
            do_serve(t, a)
    finally:
        t.cleanup()


if __name__ == '__main__':
    code = main()
    # Done: oslo.messaging 14's transport, even cleaned up, leaves a
    # thread that keeps the interpreter from exiting for some 10 s.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)
