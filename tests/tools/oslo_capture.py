#!/usr/bin/python3
"""Capture oslo.messaging wire vectors from a private RabbitMQ broker.

Drives Debian's python3-oslo.messaging itself (RPCClient, an RPC server from
oslo_messaging.get_rpc_server with the 'threading' executor, Notifier and a
notification listener) against a broker, watches the wire with python3-amqp,
and writes what it saw to one JSON file (see tests/data/README.md):

  durable              declarations and publishes with amqp_durable_queues
  unsupported_version  replies to raw calls with unsupported version/namespace
  call_monitor         call-monitor heartbeats (ending: false) and their cadence
  notifications        Notifier publishes and listener declarations
  user_id              the full AMQP property set of a cast (no user_id)

Usage, as root, with a private broker (never a system RabbitMQ):

  . tests/lib/broker.sh
  broker_start /tmp/oslo-capture 6931        # sets BROKER_URL
  /usr/bin/python3 tests/tools/oslo_capture.py "$BROKER_URL" \\
      tests/data/oslo-14.0.3-extra.json
  broker_stop

Run it with Debian's /usr/bin/python3 (a python3 earlier in PATH, e.g. from
pyenv, does not see the Debian packages).  Needs python3-oslo.messaging,
python3-amqp and rabbitmqctl.

Only the host and port of AMQP_URL are used to connect.  The script talks to
the node with rabbitmqctl (node name and epmd port default to what
tests/lib/broker.sh uses for that port: novafsPORT@localhost, ERL_EPMD_PORT =
PORT+20000; override with --node and --epmd-port).  Through rabbitmqctl it
creates a throwaway user with a random password and one vhost per capture
(oslo-capture-*), enables the firehose tracer (rabbitmqctl trace_on) in those
vhosts so that every publish, including replies sent through the default
exchange to oslo's own reply queues, can be seen, reads the broker's view of
the declared exchanges, queues and bindings (list_exchanges, list_queues,
list_bindings), and deletes the vhosts and the user again at the end.  So the
script can be run again on the same broker.  Nothing it records contains a
password.

Timestamps ("t") are seconds relative to the request, measured on arrival
at this script (firehose or reply consumer), rounded to milliseconds.
"""

import argparse
import contextlib
import importlib.metadata
import json
import logging
import os
import secrets
import socket
import subprocess
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

EXCHANGE = 'novafs'
TOPIC = 'vectors'
CAPTURE_USER = 'oslo-capture'
VHOST_PREFIX = 'oslo-capture-'
FIREHOSE_QUEUE = 'capture_firehose'
RAW_REPLY_QUEUE = 'capture_reply'
SNIFF_QUEUE = 'capture_sniff'
CAPTURE_QUEUES = {FIREHOSE_QUEUE, RAW_REPLY_QUEUE, SNIFF_QUEUE,
                  SNIFF_QUEUE + '_uid'}
CTXT = {'request_id': 'req-0001', 'user_id': 'u1', 'project_id': 'p1'}

# AMQP 0-9-1 basic property order, so that recorded properties read the same
# way as in /work/shared/oslo-vectors/rabbit-14.0.3.json.
PROPERTY_ORDER = ['content_type', 'content_encoding', 'headers',
                  'delivery_mode', 'priority', 'correlation_id', 'reply_to',
                  'expiration', 'message_id', 'timestamp', 'type', 'user_id',
                  'app_id', 'cluster_id']

LOG = logging.getLogger('oslo_capture')


def norm_props(props):
    """Properties in spec order, 'application_headers' named 'headers'."""
    props = dict(props)
    if 'application_headers' in props:
        props['headers'] = props.pop('application_headers')
    out = {k: props.pop(k) for k in PROPERTY_ORDER if k in props}
    out.update(props)
    return out


def body_json(body):
    if isinstance(body, (bytes, bytearray)):
        body = bytes(body).decode('utf-8')
    return json.loads(body)


def rel(t, t0):
    return round(t - t0, 3)


class Ctl:
    """rabbitmqctl against the private node."""

    def __init__(self, exe, node, epmd_port):
        self.exe, self.node = exe, node
        self.env = dict(os.environ, ERL_EPMD_PORT=str(epmd_port))

    def run(self, *args, check=True):
        p = subprocess.run([self.exe, '-n', self.node, '-q'] + list(args),
                           env=self.env, capture_output=True, text=True,
                           stdin=subprocess.DEVNULL, timeout=120)
        if check and p.returncode != 0:
            raise RuntimeError('rabbitmqctl %s failed (%d): %s%s' % (
                args[0], p.returncode, p.stdout, p.stderr))
        return p.stdout

    def json(self, *args):
        return json.loads(self.run(*(list(args) + ['--formatter', 'json'])))


class Broker:
    """The private broker: rabbitmqctl, vhosts and the throwaway user."""

    def __init__(self, url, ctl):
        u = urllib.parse.urlsplit(url)
        if u.scheme not in ('amqp', 'rabbit'):
            raise SystemExit('AMQP_URL must be amqp://...')
        self.host = u.hostname or '127.0.0.1'
        self.port = u.port or 5672
        self.ctl = ctl
        self.user = CAPTURE_USER
        self.password = secrets.token_hex(16)
        self.vhosts = []
        self.server_version = None

    def setup(self):
        self.ctl.run('delete_user', self.user, check=False)
        # A throwaway user: its password is random and never recorded.
        self.ctl.run('add_user', self.user, self.password)

    def vhost(self, name):
        vhost = VHOST_PREFIX + name
        self.ctl.run('delete_vhost', vhost, check=False)
        self.ctl.run('add_vhost', vhost)
        self.vhosts.append(vhost)
        self.ctl.run('set_permissions', '-p', vhost, self.user,
                     '.*', '.*', '.*')
        self.ctl.run('trace_on', '-p', vhost)
        return vhost

    def teardown(self):
        for vhost in self.vhosts:
            self.ctl.run('delete_vhost', vhost, check=False)
        self.vhosts = []
        self.ctl.run('delete_user', self.user, check=False)

    def url(self, vhost):
        return 'rabbit://%s:%s@%s:%d/%s' % (
            self.user, self.password, self.host, self.port,
            urllib.parse.quote(vhost, safe=''))

    def shown_url(self, vhost):
        return 'rabbit://%s:***@%s:%d/%s' % (
            self.user, self.host, self.port, vhost)

    def connect(self, vhost):
        c = amqp.Connection('%s:%d' % (self.host, self.port),
                            userid=self.user, password=self.password,
                            virtual_host=vhost, connect_timeout=10)
        c.connect()
        if self.server_version is None:
            v = c.server_properties.get('version')
            self.server_version = v.decode() if isinstance(v, bytes) else v
        return c

    def snapshot(self, vhost):
        """The broker's view of what is declared, without its own exchanges
        and without what this script declared."""
        ex = self.ctl.json('list_exchanges', '-p', vhost, 'name', 'type',
                           'durable', 'auto_delete', 'arguments')
        qs = self.ctl.json('list_queues', '-p', vhost, 'name', 'durable',
                           'auto_delete', 'exclusive', 'arguments')
        bs = self.ctl.json('list_bindings', '-p', vhost, 'source_name',
                           'source_kind', 'destination_name',
                           'destination_kind', 'routing_key', 'arguments')
        ex = [e for e in ex
              if e['name'] and not e['name'].startswith('amq.')]
        qs = [q for q in qs if q['name'] not in CAPTURE_QUEUES]
        # Every queue is bound to the default exchange under its own name;
        # those implicit bindings are left out.
        bs = [b for b in bs if b['source_name']
              and b['source_name'] != 'amq.rabbitmq.trace'
              and b['destination_name'] not in CAPTURE_QUEUES]
        return {'exchanges': sorted(ex, key=lambda e: e['name']),
                'queues': sorted(qs, key=lambda q: q['name']),
                'bindings': sorted(bs, key=lambda b: (
                    b['source_name'], b['destination_name'],
                    b['routing_key']))}


def snap_diff(old, new):
    """What appeared between two snapshots."""
    def key(kind, x):
        if kind == 'bindings':
            return json.dumps(x, sort_keys=True)
        return x['name']
    out = {}
    for kind in ('exchanges', 'queues', 'bindings'):
        seen = {key(kind, x) for x in old[kind]}
        out[kind] = [x for x in new[kind] if key(kind, x) not in seen]
    return out


def generic_name(name):
    """reply_<uuid> and <topic>_fanout_<uuid> shown with a placeholder."""
    parts = name.rsplit('_', 1)
    if len(parts) == 2 and len(parts[1]) == 32:
        try:
            int(parts[1], 16)
            return parts[0] + '_<uuid4 hex>'
        except ValueError:
            pass
    return name


class Firehose(threading.Thread):
    """Consumes the vhost's firehose: one trace message per publish, with
    the exchange, routing keys, properties and body as published."""

    instances = []

    def __init__(self, broker, vhost):
        super().__init__(daemon=True)
        Firehose.instances.append(self)
        self.conn = broker.connect(vhost)
        ch = self.conn.channel()
        ch.queue_declare(FIREHOSE_QUEUE, durable=False, auto_delete=True,
                         exclusive=True)
        ch.queue_bind(FIREHOSE_QUEUE, 'amq.rabbitmq.trace', 'publish.#')
        ch.basic_consume(FIREHOSE_QUEUE, callback=self._on, no_ack=True)
        self.events = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.start()

    def _on(self, msg):
        now = time.monotonic()
        h = msg.properties.get('application_headers', {})
        ev = {
            't': now,
            'exchange': h.get('exchange_name'),
            'routing_keys': list(h.get('routing_keys', [])),
            'routed_queues': list(h.get('routed_queues', [])),
            'properties': norm_props(h.get('properties', {})),
            'body': body_json(msg.body),
            'user': h.get('user'),
        }
        with self.lock:
            self.events.append(ev)

    def run(self):
        while not self.stopping.is_set():
            try:
                self.conn.drain_events(timeout=0.05)
            except socket.timeout:
                pass

    def mark(self):
        with self.lock:
            return len(self.events)

    def since(self, mark, settle=0.5):
        time.sleep(settle)
        with self.lock:
            return list(self.events[mark:])

    def stop(self):
        self.stopping.set()
        self.join(5)
        with contextlib.suppress(Exception):
            self.conn.close()


def publish_record(ev, t0=None, routed=False):
    rec = {}
    if t0 is not None:
        rec['t'] = rel(ev['t'], t0)
    rec['exchange'] = ev['exchange']
    rec['routing_key'] = ev['routing_keys'][0] if len(
        ev['routing_keys']) == 1 else ev['routing_keys']
    if routed:
        rec['routed_queues'] = ev['routed_queues']
    rec['properties'] = ev['properties']
    rec['body'] = ev['body']
    return rec


class RawPeer:
    """A hand-made RPC client on python3-amqp, with its own reply queue."""

    def __init__(self, broker, vhost):
        self.conn = broker.connect(vhost)
        self.ch = self.conn.channel()
        self.ch.queue_declare(RAW_REPLY_QUEUE, durable=False,
                              auto_delete=True, exclusive=False)
        self.replies = []
        self.ch.basic_consume(RAW_REPLY_QUEUE, callback=self._on,
                              no_ack=True)

    def _on(self, msg):
        self.replies.append((time.monotonic(), msg))

    def call(self, routing_key, message, timeout=15):
        """Publish message (a dict: the oslo.message) and collect every
        reply up to the one with ending: true."""
        body = {'oslo.version': '2.0', 'oslo.message': json.dumps(message)}
        props = {'content_type': 'application/json',
                 'content_encoding': 'utf-8',
                 'application_headers': {},
                 'delivery_mode': 2, 'priority': 0}
        self.replies = []
        t0 = time.monotonic()
        self.ch.basic_publish(amqp.Message(json.dumps(body), **props),
                              exchange=EXCHANGE, routing_key=routing_key)
        deadline = t0 + timeout
        replies = []
        while time.monotonic() < deadline:
            try:
                self.conn.drain_events(timeout=0.1)
            except socket.timeout:
                pass
            while self.replies:
                t, msg = self.replies.pop(0)
                reply = body_json(msg.body)
                replies.append({'t': rel(t, t0),
                                'properties': norm_props(msg.properties),
                                'body': reply})
                inner = json.loads(reply['oslo.message'])
                if inner.get('_msg_id') == message.get('_msg_id') and \
                        inner.get('ending'):
                    return {'exchange': EXCHANGE, 'routing_key': routing_key,
                            'request_properties': norm_props(props),
                            'request': body, 'replies': replies}
        raise RuntimeError('no final reply to %r' % message)

    def close(self):
        with contextlib.suppress(Exception):
            self.conn.close()


def raw_message(method, args, **extra):
    msg = {'method': method, 'args': args}
    msg.update(extra)
    msg.update({'_msg_id': uuid.uuid4().hex, '_reply_q': RAW_REPLY_QUEUE,
                '_unique_id': uuid.uuid4().hex,
                '_context_request_id': 'req-0002'})
    if '_timeout' not in msg:
        msg['_timeout'] = None
    return msg


def failure_of(reply_body):
    """class, module, message, args, kwargs of a reply's failure (or None)."""
    inner = json.loads(reply_body['oslo.message'])
    if not inner.get('failure'):
        return None
    f = json.loads(inner['failure'])
    return {k: f.get(k) for k in ('class', 'module', 'message', 'args',
                                  'kwargs')}


class Oslo:
    """One oslo.config + transport, configured from an ini file so that the
    exact configuration can be recorded."""

    def __init__(self, broker, vhost, sections, notifications=False):
        self.sections = sections
        fd, self.path = tempfile.mkstemp(suffix='.conf', prefix='oslo-cap-')
        with os.fdopen(fd, 'w') as f:
            for sect, opts in sections.items():
                f.write('[%s]\n' % sect)
                for k, v in opts.items():
                    f.write('%s = %s\n' % (k, v))
        self.conf = cfg.ConfigOpts()
        self.conf(args=[], project='oslo-capture',
                  default_config_files=[self.path])
        # The RPC client's metrics hook reads these options, which
        # oslo.messaging registers on the global cfg.CONF only.
        self.conf.register_opts(metrics_client.oslo_messaging_metrics,
                                group='oslo_messaging_metrics')
        get = (oslo_messaging.get_notification_transport if notifications
               else oslo_messaging.get_rpc_transport)
        self.transport = get(self.conf, url=broker.url(vhost))
        self.shown_url = broker.shown_url(vhost)

    def record(self):
        """The ini file as written, plus the effective values that matter."""
        r = self.conf.oslo_messaging_rabbit
        eff = {'control_exchange': self.conf.control_exchange,
               'amqp_durable_queues': r.amqp_durable_queues,
               'amqp_auto_delete': r.amqp_auto_delete,
               'rabbit_transient_queues_ttl': r.rabbit_transient_queues_ttl,
               'rabbit_ha_queues': r.rabbit_ha_queues,
               'rabbit_quorum_queue': r.rabbit_quorum_queue,
               'direct_mandatory_flag': r.direct_mandatory_flag}
        with contextlib.suppress(cfg.NoSuchOptError):
            eff['rpc_response_timeout'] = self.conf.rpc_response_timeout
        with contextlib.suppress(cfg.NoSuchOptError,
                                 cfg.NoSuchGroupError):
            n = self.conf.oslo_messaging_notifications
            eff['notification_driver'] = list(n.driver)
            eff['notification_topics'] = list(n.topics)
        return {'transport_url': self.shown_url, 'config_file': self.sections,
                'effective': eff}

    def close(self):
        with contextlib.suppress(Exception):
            self.transport.cleanup()
        with contextlib.suppress(OSError):
            os.unlink(self.path)


def endpoint(version=None, no_target=False):
    """An RPC endpoint; the dispatcher checks version and namespace against
    the endpoint's own 'target' attribute (not the server's target)."""
    attrs = {
        'echo': lambda self, ctxt, text: {'echoed': text},
        'slow': lambda self, ctxt, seconds: (time.sleep(seconds),
                                             {'slept': seconds})[1],
    }
    if not no_target:
        attrs['target'] = oslo_messaging.Target(version=version)
    return type('VectorsAPI', (), attrs)()


@contextlib.contextmanager
def rpc_server(oslo, server, version, ep):
    target = oslo_messaging.Target(topic=TOPIC, server=server,
                                   version=version)
    srv = oslo_messaging.get_rpc_server(oslo.transport, target, [ep],
                                        executor='threading')
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()
        srv.wait()


class NotificationEndpoint:
    def __init__(self):
        self.got = []

    def _got(self, prio, ctxt, publisher_id, event_type, payload, metadata):
        self.got.append({'priority_method': prio, 'ctxt': ctxt,
                         'publisher_id': publisher_id,
                         'event_type': event_type, 'payload': payload,
                         'metadata': metadata})

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        self._got('info', ctxt, publisher_id, event_type, payload, metadata)

    def error(self, ctxt, publisher_id, event_type, payload, metadata):
        self._got('error', ctxt, publisher_id, event_type, payload, metadata)


@contextlib.contextmanager
def notification_listener(oslo, ep):
    lst = oslo_messaging.get_notification_listener(
        oslo.transport, [oslo_messaging.Target(topic='notifications')], [ep],
        executor='threading')
    lst.start()
    try:
        yield lst
    finally:
        lst.stop()
        lst.wait()


def wait_for(pred, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return False


BASE_CONFIG = {'DEFAULT': {'control_exchange': EXCHANGE}}


def with_rabbit(durable):
    conf = json.loads(json.dumps(BASE_CONFIG))
    if durable:
        conf['oslo_messaging_rabbit'] = {'amqp_durable_queues': 'True'}
    return conf


# --------------------------------------------------------------------------
# 1. durable


def capture_durable(broker, stack):
    vhost = broker.vhost('durable')
    fh = Firehose(broker, vhost)
    stack.callback(fh.stop)
    server_oslo = Oslo(broker, vhost, with_rabbit(True))
    stack.callback(server_oslo.close)
    client_oslo = Oslo(broker, vhost, with_rabbit(True))
    stack.callback(client_oslo.close)
    client = oslo_messaging.get_rpc_client(
        client_oslo.transport,
        oslo_messaging.Target(topic=TOPIC, server='hostA'))
    out = {'vhost': vhost, 'oslo_config': client_oslo.record(),
           'client': 'get_rpc_client(transport, Target(topic="vectors", '
                     'server="hostA")): no version in the target, so the '
                     'requests carry no "version" key',
           'server': 'get_rpc_server(transport, Target(topic="vectors", '
                     'server="hostA", version="1.0"), [endpoint], '
                     'executor="threading")',
           'context_passed': CTXT}

    s0 = broker.snapshot(vhost)
    # a) a cast while no server exists: what the client alone declares.
    m = fh.mark()
    client.cast(CTXT, 'echo', text='cast-before-server')
    s1 = broker.snapshot(vhost)
    out['client_cast_without_server'] = {
        'declared': snap_diff(s0, s1),
        'published': [publish_record(e, routed=True) for e in fh.since(m)],
    }

    # b) the RPC server starts.
    with rpc_server(server_oslo, 'hostA', '1.0', endpoint('1.0')):
        s2 = broker.snapshot(vhost)
        out['rpc_server_declares'] = snap_diff(s1, s2)
        out['rpc_server_declares']['note'] = (
            'exchange %r existed already (declared by the client cast); the '
            'server redeclared it with the same flags, or the broker would '
            'have refused it' % EXCHANGE)

        # c) cast and call with the server running.
        m = fh.mark()
        client.cast(CTXT, 'echo', text='cast-me')
        cast = fh.since(m)
        m = fh.mark()
        result = client.call(CTXT, 'echo', text='hello')
        call = fh.since(m)
        s3 = broker.snapshot(vhost)
        out['mismatch_probe'] = mismatch_probe(broker, vhost)
    out['client_cast'] = [publish_record(e, routed=True) for e in cast]
    out['client_call'] = {
        'result': result,
        'published': [publish_record(e, routed=True) for e in call],
        'declared': snap_diff(s2, s3),
    }
    # Everything at the end, with the random part of names replaced.
    out['all_declared'] = {
        'exchanges': s3['exchanges'],
        'queues': [dict(q, name=generic_name(q['name']))
                   for q in s3['queues']],
        'bindings': [dict(b, destination_name=generic_name(
            b['destination_name'])) for b in s3['bindings']]}
    return out


def mismatch_probe(broker, vhost):
    """What the broker answers a peer that declares the durable entities
    as non-durable (each on a fresh channel, which the broker closes)."""
    probes = [('exchange_declare', EXCHANGE,
               dict(type='topic', durable=False, auto_delete=False)),
              ('queue_declare', TOPIC,
               dict(durable=False, auto_delete=False))]
    out = []
    conn = broker.connect(vhost)
    try:
        for method, name, kw in probes:
            ch = conn.channel()
            rec = {'method': method, 'name': name, 'flags': kw}
            try:
                getattr(ch, method)(name, **kw)
                rec['accepted'] = True
            except amqp.exceptions.AMQPError as exc:
                rec['accepted'] = False
                rec['reply_code'] = exc.reply_code
                rec['reply_text'] = exc.reply_text
            out.append(rec)
    finally:
        with contextlib.suppress(Exception):
            conn.close()
    return out


# --------------------------------------------------------------------------
# 2. unsupported_version


def capture_versions(broker, stack):
    vhost = broker.vhost('versions')
    oslo = Oslo(broker, vhost, with_rabbit(False))
    stack.callback(oslo.close)
    peer = RawPeer(broker, vhost)
    stack.callback(peer.close)
    out = {'vhost': vhost, 'oslo_config': oslo.record(),
           'requests': 'published by hand (python3-amqp) to exchange '
                       '"novafs", routing key "vectors.<server>", reply '
                       'queue %r declared by this script' % RAW_REPLY_QUEUE}

    def case(server, doc, method, args, **extra):
        r = peer.call('%s.%s' % (TOPIC, server),
                      raw_message(method, args, **extra))
        rec = {'doc': doc}
        rec.update(r)
        final = r['replies'][-1]['body']
        f = failure_of(final)
        rec['outcome'] = ('%s: %s' % (f['class'], f['message']) if f
                          else 'result %s' % json.dumps(
                              json.loads(final['oslo.message'])['result']))
        return rec

    servers = {
        'hostA': 'server Target(topic="vectors", server="hostA", '
                 'version="1.3"), endpoint.target = Target(version="1.3"), '
                 'no namespace',
        'hostB': 'server Target(topic="vectors", server="hostB", '
                 'version="2.0"), endpoint.target = Target(version="2.0"), '
                 'no namespace',
        'hostC': 'server Target(topic="vectors", server="hostC", '
                 'version="1.3"), endpoint without a target attribute',
    }
    out['servers'] = servers
    with rpc_server(oslo, 'hostA', '1.3', endpoint('1.3')), \
            rpc_server(oslo, 'hostB', '2.0', endpoint('2.0')), \
            rpc_server(oslo, 'hostC', '1.3', endpoint(no_target=True)):
        out['version_2_0'] = case(
            'hostA', 'version "2.0" to a 1.3 server', 'echo',
            {'text': 'v2.0'}, version='2.0')
        out['version_1_4'] = case(
            'hostA', 'version "1.4" to a 1.3 server', 'echo',
            {'text': 'v1.4'}, version='1.4')
        out['namespace_baseapi'] = case(
            'hostA', 'namespace "baseapi", version "1.0", to a 1.3 server '
            'without namespace', 'echo', {'text': 'ns'},
            namespace='baseapi', version='1.0')
        out['no_version_to_1_3'] = case(
            'hostA', 'no "version" key, to a 1.3 server', 'echo',
            {'text': 'no-version'})
        out['no_version_to_2_0'] = case(
            'hostB', 'no "version" key, to a 2.0 server', 'echo',
            {'text': 'no-version'})
        out['version_1_3_ok'] = case(
            'hostA', 'control: version "1.3" to a 1.3 server', 'echo',
            {'text': 'v1.3'}, version='1.3')
        out['version_1_1_no_such_method'] = case(
            'hostA', 'version "1.1" (compatible) to a 1.3 server, method '
            'that does not exist', 'nosuch', {}, version='1.1')
        out['version_2_1_no_such_method'] = case(
            'hostA', 'version "2.1" (incompatible) to a 1.3 server, method '
            'that does not exist', 'nosuch', {}, version='2.1')
        out['server_target_ignored'] = case(
            'hostC', 'version "1.3" to a server whose Target says 1.3 but '
            'whose endpoint has no target (so it counts as 1.0)', 'echo',
            {'text': 'v1.3'}, version='1.3')
    return out


# --------------------------------------------------------------------------
# 3. call_monitor


def capture_call_monitor(broker, stack):
    vhost = broker.vhost('callmon')
    fh = Firehose(broker, vhost)
    stack.callback(fh.stop)
    server_oslo = Oslo(broker, vhost, with_rabbit(False))
    stack.callback(server_oslo.close)
    client_oslo = Oslo(broker, vhost, with_rabbit(False))
    stack.callback(client_oslo.close)
    peer = RawPeer(broker, vhost)
    stack.callback(peer.close)
    sleep = 3.5
    out = {'vhost': vhost, 'context_passed': CTXT,
           'rule': 'server: interval = int(_timeout) / 2 seconds, first '
                   'heartbeat one interval after dispatch starts; none if '
                   'the interval is < 1 or _timeout is null/absent'}

    with rpc_server(server_oslo, 'hostA', '1.0', endpoint('1.0')):
        client = oslo_messaging.get_rpc_client(
            client_oslo.transport,
            oslo_messaging.Target(topic=TOPIC, server='hostA'),
            call_monitor_timeout=2)
        out['oslo_config'] = client_oslo.record()
        out['python_client'] = {
            'doc': 'RPCClient(..., call_monitor_timeout=2).call(ctxt, '
                   '"slow", seconds=%s); server method sleeps %s s. Seen '
                   'through the firehose; t is relative to the request '
                   'publish.' % (sleep, sleep)}
        m = fh.mark()
        t_call = time.monotonic()
        result = client.call(CTXT, 'slow', seconds=sleep)
        t_ret = time.monotonic()
        evs = fh.since(m)
        req = [e for e in evs if e['exchange'] == EXCHANGE]
        if len(req) != 1:
            raise RuntimeError('expected one request, saw %d' % len(req))
        t0 = req[0]['t']
        reply_q = json.loads(req[0]['body']['oslo.message'])['_reply_q']
        replies = [e for e in evs if e['exchange'] == ''
                   and e['routing_keys'] == [reply_q]]
        out['python_client'].update({
            'result': result,
            'call_returned_after': rel(t_ret, t_call),
            'request': publish_record(req[0], t0),
            'replies': [publish_record(e, t0) for e in replies],
        })

        def raw(timeout, doc):
            msg = raw_message('slow', {'seconds': sleep}, version='1.0',
                              _timeout=timeout)
            r = peer.call('%s.hostA' % TOPIC, msg)
            r['doc'] = doc
            r['heartbeats_at'] = [x['t'] for x in r['replies'][:-1]]
            r['final_at'] = r['replies'][-1]['t']
            return r

        out['raw_timeout_2'] = raw(
            2, 'raw call with "_timeout": 2, method sleeps %s s; replies '
               'consumed from our own reply queue, t relative to our '
               'publish' % sleep)
        out['raw_timeout_3'] = raw(
            3, 'raw call with "_timeout": 3 (interval int(3)/2 = 1.5 s)')
        out['raw_timeout_1'] = raw(
            1, 'raw call with "_timeout": 1 (interval 0.5 s < 1: the server '
               'logs a warning and sends no heartbeat)')
    return out


# --------------------------------------------------------------------------
# 4. notifications


NOTIFY_CTXT = dict(CTXT, auth_token='placeholder-not-a-secret')
PAYLOAD = {'instance_id': 'inst-0001', 'state': 'active'}
ERROR_PAYLOAD = {'instance_id': 'inst-0001', 'error': 'no valid host'}


NOTIFIER_DOC = (
    'Notifier(transport, publisher_id="compute.host1"), driver and topics '
    'from [oslo_messaging_notifications]; info(ctxt, "instance.update", '
    '%s) then error(ctxt, "instance.create.error", %s)' % (
        json.dumps(PAYLOAD), json.dumps(ERROR_PAYLOAD)))


def notify_config(durable, driver):
    conf = with_rabbit(durable)
    conf['oslo_messaging_notifications'] = {'driver': driver,
                                            'topics': 'notifications'}
    return conf


def send_notifications(oslo):
    n = oslo_messaging.Notifier(oslo.transport, publisher_id='compute.host1')
    n.info(NOTIFY_CTXT, 'instance.update', PAYLOAD)
    n.error(NOTIFY_CTXT, 'instance.create.error', ERROR_PAYLOAD)


def capture_notifications_one(broker, stack, durable):
    tag = 'durable' if durable else 'plain'
    out = {}

    # a) notifier first (no listener yet), driver 'messaging' then
    #    'messagingv2'; then a listener starts and drains the queues.
    vhost = broker.vhost('notify-%s-notifier-first' % tag)
    fh = Firehose(broker, vhost)
    stack.callback(fh.stop)
    rec = {'vhost': vhost, 'notifier': NOTIFIER_DOC,
           'context_passed': NOTIFY_CTXT}
    s0 = broker.snapshot(vhost)
    for driver in ('messaging', 'messagingv2'):
        oslo = Oslo(broker, vhost, notify_config(durable, driver),
                    notifications=True)
        stack.callback(oslo.close)
        m = fh.mark()
        send_notifications(oslo)
        pubs = fh.since(m)
        s1 = broker.snapshot(vhost)
        rec['driver_' + driver] = {
            'oslo_config': oslo.record(),
            'published': [publish_record(e, routed=True) for e in pubs],
            'declared': snap_diff(s0, s1),
        }
        s0 = s1
    lst_oslo = Oslo(broker, vhost, notify_config(durable, 'messaging'),
                    notifications=True)
    stack.callback(lst_oslo.close)
    ep = NotificationEndpoint()
    with notification_listener(lst_oslo, ep):
        wait_for(lambda: len(ep.got) >= 4)
        s2 = broker.snapshot(vhost)
    rec['listener_afterwards'] = {
        'declared': snap_diff(s0, s2),
        'received': ep.got,
    }
    rec['all_declared'] = s2
    out['notifier_first'] = rec

    # b) listener first, then one info notification.
    vhost = broker.vhost('notify-%s-listener-first' % tag)
    fh = Firehose(broker, vhost)
    stack.callback(fh.stop)
    oslo = Oslo(broker, vhost, notify_config(durable, 'messaging'),
                notifications=True)
    stack.callback(oslo.close)
    rec = {'vhost': vhost, 'oslo_config': oslo.record(),
           'notifier': NOTIFIER_DOC, 'context_passed': NOTIFY_CTXT,
           'listener': 'get_notification_listener(transport, '
                       '[Target(topic="notifications")], [endpoint with info '
                       'and error methods], executor="threading"), no pool'}
    s0 = broker.snapshot(vhost)
    ep = NotificationEndpoint()
    with notification_listener(oslo, ep):
        s1 = broker.snapshot(vhost)
        rec['listener_declares'] = snap_diff(s0, s1)
        n_oslo = Oslo(broker, vhost, notify_config(durable, 'messaging'),
                      notifications=True)
        stack.callback(n_oslo.close)
        m = fh.mark()
        send_notifications(n_oslo)
        wait_for(lambda: len(ep.got) >= 2)
        pubs = fh.since(m)
        s2 = broker.snapshot(vhost)
    rec['published'] = [publish_record(e, routed=True) for e in pubs]
    rec['notifier_declares_afterwards'] = snap_diff(s1, s2)
    rec['received'] = ep.got
    out['listener_first'] = rec
    return out


def capture_notifications(broker, stack):
    return {
        'amqp_durable_queues_false': capture_notifications_one(
            broker, stack, False),
        'amqp_durable_queues_true': capture_notifications_one(
            broker, stack, True),
    }


# --------------------------------------------------------------------------
# 5. user_id


def capture_user_id(broker, stack, all_events):
    vhost = broker.vhost('userid')
    fh = Firehose(broker, vhost)
    stack.callback(fh.stop)
    server_oslo = Oslo(broker, vhost, with_rabbit(False))
    stack.callback(server_oslo.close)
    client_oslo = Oslo(broker, vhost, with_rabbit(False))
    stack.callback(client_oslo.close)
    out = {'vhost': vhost, 'oslo_config': client_oslo.record()}
    with rpc_server(server_oslo, 'hostA', '1.0', endpoint('1.0')):
        # A plain consumer's view of the same cast: a queue of ours bound
        # to the topic exchange.
        conn = broker.connect(vhost)
        stack.callback(conn.close)
        ch = conn.channel()
        ch.queue_declare(SNIFF_QUEUE, durable=False, auto_delete=True,
                         exclusive=True)
        ch.queue_bind(SNIFF_QUEUE, EXCHANGE, '#')
        client = oslo_messaging.get_rpc_client(
            client_oslo.transport,
            oslo_messaging.Target(topic=TOPIC, server='hostA'))
        m = fh.mark()
        client.cast(CTXT, 'echo', text='cast-me')
        pubs = fh.since(m)
        got = None
        deadline = time.monotonic() + 5
        while got is None and time.monotonic() < deadline:
            got = ch.basic_get(SNIFF_QUEUE, no_ack=True)
            if got is None:
                time.sleep(0.05)
        if got is None:
            raise RuntimeError('sniff queue got nothing')
        m = fh.mark()
        client.call(CTXT, 'echo', text='hello')
        call_pubs = fh.since(m)
    cast = [e for e in pubs if e['exchange'] == EXCHANGE]
    out['cast_published'] = publish_record(cast[0])
    out['cast_published']['connection_user'] = cast[0]['user']
    out['cast_delivered_properties'] = norm_props(got.properties)
    out['call_published'] = [publish_record(e) for e in call_pubs]
    # Every publish by oslo.messaging seen in this run (the raw requests
    # this script published itself are left out).
    everything = [e for e in all_events + fh.since(0, settle=0.2)
                  if RAW_REPLY_QUEUE not in json.dumps(e['body'])
                  or e['exchange'] == '']
    out['publishes_checked'] = len(everything)
    out['publishes_with_user_id'] = sum(
        1 for e in everything if 'user_id' in e['properties'])
    out['property_names_seen'] = sorted(
        {k for e in everything for k in e['properties']},
        key=lambda k: (PROPERTY_ORDER + [k]).index(k))
    out['broker_user_id_check'] = user_id_probe(broker, vhost)
    return out


# --------------------------------------------------------------------------


def user_id_probe(broker, vhost):
    """What the broker does with a user_id property that matches, and one
    that does not match, the connection's user (oslo never sets one)."""
    out = []
    conn = broker.connect(vhost)
    try:
        ch = conn.channel()
        ch.queue_declare(SNIFF_QUEUE + '_uid', durable=False,
                         auto_delete=True, exclusive=True)
        for uid in (broker.user, 'someone-else'):
            pub = conn.channel()
            rec = {'user_id': uid, 'connection_user': broker.user}
            pub.basic_publish(amqp.Message('{}', user_id=uid), exchange='',
                              routing_key=SNIFF_QUEUE + '_uid')
            try:
                # A synchronous method on the same channel surfaces an
                # asynchronous channel.close.
                pub.queue_declare(SNIFF_QUEUE + '_uid', passive=True)
                got = ch.basic_get(SNIFF_QUEUE + '_uid', no_ack=True)
                rec['accepted'] = True
                rec['delivered_user_id'] = (got.properties.get('user_id')
                                            if got else None)
            except amqp.exceptions.AMQPError as exc:
                rec['accepted'] = False
                rec['reply_code'] = exc.reply_code
                rec['reply_text'] = exc.reply_text
            out.append(rec)
    finally:
        with contextlib.suppress(Exception):
            conn.close()
    return out


def versions(broker):
    def dpkg(pkg):
        p = subprocess.run(['dpkg-query', '-W', '-f', '${Version}', pkg],
                           capture_output=True, text=True)
        return p.stdout.strip() or None
    return {
        'oslo.messaging': importlib.metadata.version('oslo.messaging'),
        'python3-oslo.messaging': dpkg('python3-oslo.messaging'),
        'python3-kombu': dpkg('python3-kombu'),
        'python3-amqp': dpkg('python3-amqp'),
        'rabbitmq-server': dpkg('rabbitmq-server'),
        'rabbitmq_server_properties_version': broker.server_version,
        'python': sys.version.split()[0],
    }


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('url', metavar='AMQP_URL',
                    help='URL of the private broker (host and port used)')
    ap.add_argument('output', metavar='OUTPUT.json')
    ap.add_argument('--node', help='node name (default novafsPORT@localhost)')
    ap.add_argument('--epmd-port', type=int,
                    help='ERL_EPMD_PORT of the node (default PORT+20000)')
    ap.add_argument('--rabbitmqctl', default='rabbitmqctl')
    ap.add_argument('--only', action='append',
                    help='capture only this section (repeatable)')
    opts = ap.parse_args()

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format='%(levelname)s %(name)s: %(message)s')
    # The refusals in unsupported_version are expected; the server logs each
    # with a traceback, which is recorded in the reply anyway.
    logging.getLogger('oslo_messaging.rpc.server').setLevel(logging.CRITICAL)

    port = urllib.parse.urlsplit(opts.url).port or 5672
    ctl = Ctl(opts.rabbitmqctl, opts.node or 'novafs%d@localhost' % port,
              opts.epmd_port or port + 20000)
    broker = Broker(opts.url, ctl)

    sections = [('durable', capture_durable),
                ('unsupported_version', capture_versions),
                ('call_monitor', capture_call_monitor),
                ('notifications', capture_notifications),
                ('user_id', None)]
    result = {'versions': None}
    broker.setup()
    try:
        for name, fn in sections:
            if opts.only and name not in opts.only:
                continue
            LOG.warning('capturing %s', name)
            with contextlib.ExitStack() as stack:
                if name == 'user_id':
                    # Every publish seen so far, in all sections.
                    prior = [e for f in Firehose.instances for e in f.events]
                    result[name] = capture_user_id(broker, stack, prior)
                else:
                    result[name] = fn(broker, stack)
        result['versions'] = versions(broker)
    finally:
        broker.teardown()

    with open(opts.output, 'w') as f:
        json.dump(result, f, indent=2)
        f.write('\n')
    LOG.warning('wrote %s', opts.output)


if __name__ == '__main__':
    main()
