'use strict';
// suite.js drives the SLS emulator (localcloud -mode serve) with Alibaba's
// Node.js SDKs, unmodified, and reports what they saw. The Go test in
// ../nodesdk_test.go writes the plan to stdin, reads the report from
// stdout and compares it with what the Go SDK sees on the same data.
//
// Clients (each a separate SDK configuration):
//   log     @alicloud/log: signature v1 (hmac-sha1)
//   sls-v1  @alicloud/sls20201230: signature v1 (hmac-sha256, its default)
//   sls-v4  @alicloud/sls20201230: signature V4 (SLS4-HMAC-SHA256)
//
// What each SDK offers decides how an operation is called:
//   - @alicloud/log has public methods only for PutLogs (postLogStoreLogs),
//     the query API and project/logstore management. The data-plane and
//     consumer-group calls go through its generic signed request, _request
//     (what its public methods call), which reads answers as text: fine for
//     JSON answers, not for PullLogs' protobuf body, so this client does not
//     pull.
//   - @alicloud/sls20201230 has public methods for ListShards, GetCursor,
//     GetCursorTime and the consumer-group API. Its generated PullLogs and
//     PutLogs cannot work against any endpoint (the API reference says the
//     OpenAPI SDK does not support PullLogs): PullLogs puts no project in
//     the Host and parses the protobuf answer as JSON; PutLogs declares a
//     "protobuf" body its gateway never serializes. Both go through the
//     client's generic call, execute() (what its generated methods call),
//     with the same gateway doing signing, compression and decompression.
//
// Log groups are reported as the Go sample package encodes them:
// {"Topic","Source","Tags":[[k,v]],"Logs":[{"Time","TimeNs","Contents":[[k,v]]}]}.

require('./resolve');

const LogClient = require('@alicloud/log');
const Sls = require('@alicloud/sls20201230');
const { $OpenApiUtil } = require('@alicloud/openapi-core');
const $dara = require('@darabonba/typescript');
const protobuf = require('protobufjs');

// The protobuf schema @alicloud/log ships (sls.proto).
const proto = protobuf.loadSync(require.resolve('@alicloud/log/lib/sls.proto'));
const LogGroupList = proto.lookupType('sls.LogGroupList');
const LogGroupType = proto.lookupType('sls.LogGroup');

function log(...args) {
  process.stderr.write(args.join(' ') + '\n');
}

// errorOf reports an SDK error as {code, status}; status is null when the
// SDK does not expose it (@alicloud/log).
function errorOf(e) {
  const status = e && e.data && (e.data.statusCode || e.data.httpCode);
  return { code: (e && e.code) || String(e), status: status || null, message: (e && e.message) || '' };
}

// attempt runs fn and reports {ok:true, value} or {ok:false, error}.
async function attempt(fn) {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    return { ok: false, error: errorOf(e) };
  }
}

function toSample(lg) {
  return {
    Topic: lg.Topic || '',
    Source: lg.Source || '',
    Tags: (lg.LogTags || []).map((t) => [t.Key, t.Value]),
    Logs: (lg.Logs || []).map((l) => ({
      Time: l.Time,
      TimeNs: l.TimeNs || 0,
      Contents: (l.Contents || []).map((c) => [c.Key, c.Value]),
    })),
  };
}

// groupsToPut returns the log groups a client writes: tags, topic, source,
// nanoseconds and non-ASCII values.
function groupsToPut(name) {
  const out = [];
  for (let i = 0; i < 3; i++) {
    out.push({
      Topic: `node-${name}-${i}`,
      Source: `192.0.2.${i + 1}`,
      Tags: [['__hostname__', `node-host-${i}`], ['client', name]],
      Logs: [0, 1].map((j) => ({
        Time: 1700000000 + i,
        TimeNs: 1000 + j,
        Contents: [['message', `héllo ${name} ${i}.${j} ✓`], ['level', j ? 'warn' : 'info'], ['n', String(j)]],
      })),
    });
  }
  return out;
}

// --- @alicloud/log -------------------------------------------------------

class LogSDK {
  constructor(plan, id, secret) {
    this.name = 'log';
    this.plan = plan;
    this.c = new LogClient({ endpoint: 'http://' + plan.endpoint, accessKeyId: id, accessKeySecret: secret });
  }

  withCredentials(id, secret) {
    return new LogSDK(this.plan, id, secret);
  }

  get(project, path, queries) {
    return this.c._request('GET', project, path, queries, null, {});
  }

  send(method, project, path, queries, body) {
    return this.c._request(method, project, path, queries, body === undefined ? null : Buffer.from(JSON.stringify(body)), {});
  }

  listShards(project, logstore) {
    return this.get(project, `/logstores/${logstore}/shards`, {});
  }

  async getCursor(project, logstore, shard, from) {
    return (await this.get(project, `/logstores/${logstore}/shards/${shard}`, { type: 'cursor', from })).cursor;
  }

  async getCursorTime(project, logstore, shard, cursor) {
    return (await this.get(project, `/logstores/${logstore}/shards/${shard}`, { type: 'cursor_time', cursor })).cursor_time;
  }

  async put(project, logstore, group) {
    const toObject = (pairs) => Object.fromEntries(pairs);
    await this.c.postLogStoreLogs(project, logstore, {
      topic: group.Topic,
      source: group.Source,
      tags: group.Tags.map(([k, v]) => ({ [k]: v })),
      logs: group.Logs.map((l) => ({ timestamp: l.Time, timestampNsPart: l.TimeNs, content: toObject(l.Contents) })),
    });
  }

  createGroup(project, logstore, name, timeout, order) {
    return this.send('POST', project, `/logstores/${logstore}/consumergroups`, {}, { consumerGroup: name, timeout, order });
  }

  listGroups(project, logstore) {
    return this.get(project, `/logstores/${logstore}/consumergroups`, {});
  }

  updateGroup(project, logstore, name, timeout, order) {
    return this.send('PUT', project, `/logstores/${logstore}/consumergroups/${name}`, {}, { order, timeout });
  }

  deleteGroup(project, logstore, name) {
    return this.c._request('DELETE', project, `/logstores/${logstore}/consumergroups/${name}`, {}, null, {});
  }

  heartbeat(project, logstore, name, consumer, shards) {
    return this.send('POST', project, `/logstores/${logstore}/consumergroups/${name}`, { type: 'heartbeat', consumer }, shards);
  }

  updateCheckpoint(project, logstore, name, consumer, shard, checkpoint, forceSuccess) {
    const q = { type: 'checkpoint', forceSuccess };
    if (consumer) q.consumer = consumer;
    return this.send('POST', project, `/logstores/${logstore}/consumergroups/${name}`, q, { shard, checkpoint });
  }

  getCheckpoints(project, logstore, name, shard) {
    return this.get(project, `/logstores/${logstore}/consumergroups/${name}`, shard === undefined ? {} : { shard });
  }

  listLogStores(project) {
    return this.c.listLogStore(project, {});
  }

  getLogStore(project, logstore) {
    return this.c.getLogStore(project, logstore);
  }

  getLogs(project, logstore) {
    const now = new Date();
    return this.c.getLogs(project, logstore, new Date(now.getTime() - 3600e3), now, { query: '*' });
  }

  getProject(project) {
    return this.c.getProject(project);
  }
}

// --- @alicloud/sls20201230 ----------------------------------------------

class SlsSDK {
  constructor(plan, version, id, secret) {
    this.name = 'sls-' + version;
    this.plan = plan;
    this.version = version;
    this.c = new Sls.default(new $OpenApiUtil.Config({
      endpoint: plan.endpoint,
      protocol: 'http',
      accessKeyId: id,
      accessKeySecret: secret,
      signatureVersion: version,
      regionId: plan.region,
    }));
    this.runtime = new $dara.RuntimeOptions({});
  }

  withCredentials(id, secret) {
    return new SlsSDK(this.plan, this.version, id, secret);
  }

  // call is the client's generic call, as its generated methods make it.
  call(action, method, project, pathname, { query = {}, headers = {}, body, reqBodyType = 'none', bodyType = 'none' } = {}) {
    const params = new $OpenApiUtil.Params({
      action, version: '2020-12-30', protocol: 'HTTP', pathname, method,
      authType: 'AK', style: 'ROA', reqBodyType, bodyType,
    });
    const req = new $OpenApiUtil.OpenApiRequest({ hostMap: { project }, query, headers, body });
    return this.c.execute(params, req, this.runtime);
  }

  async listShards(project, logstore) {
    return (await this.c.listShards(project, logstore)).body;
  }

  async getCursor(project, logstore, shard, from) {
    return (await this.c.getCursor(project, logstore, String(shard), new Sls.GetCursorRequest({ from }))).body.cursor;
  }

  async getCursorTime(project, logstore, shard, cursor) {
    return (await this.c.getCursorTime(project, logstore, String(shard), new Sls.GetCursorTimeRequest({ cursor }))).body.cursorTime;
  }

  // pull is one PullLogs request; encoding sets Accept-Encoding (undefined:
  // the gateway's default, lz4).
  async pull(project, logstore, shard, cursor, endCursor, count, encoding) {
    const query = { cursor, count: String(count) };
    if (endCursor) query.end_cursor = endCursor;
    const headers = { accept: 'application/x-protobuf' };
    if (encoding !== undefined) headers['Accept-Encoding'] = encoding;
    const r = await this.call('PullLogs', 'GET', project, `/logstores/${logstore}/shards/${shard}?type=log`, { query, headers, bodyType: 'byte' });
    const list = r.body && r.body.length ? LogGroupList.decode(r.body) : { logGroupList: [] };
    return {
      count: Number(r.headers['x-log-count']),
      next: r.headers['x-log-cursor'],
      compressType: r.headers['x-log-compresstype'] || '',
      groups: (list.logGroupList || []).map(toSample),
    };
  }

  // put writes one group with PutLogs, the body compressed as compressType
  // says (undefined: the gateway's default, lz4).
  async put(project, logstore, group, compressType) {
    const msg = LogGroupType.create({
      Topic: group.Topic,
      Source: group.Source,
      LogTags: group.Tags.map(([Key, Value]) => ({ Key, Value })),
      Logs: group.Logs.map((l) => ({ Time: l.Time, TimeNs: l.TimeNs, Contents: l.Contents.map(([Key, Value]) => ({ Key, Value })) })),
    });
    const headers = { 'content-type': 'application/x-protobuf' };
    if (compressType) headers['x-log-compresstype'] = compressType;
    await this.call('PutLogs', 'POST', project, `/logstores/${logstore}/shards/lb`, {
      headers, body: Buffer.from(LogGroupType.encode(msg).finish()), reqBodyType: 'binary',
    });
  }

  createGroup(project, logstore, name, timeout, order) {
    return this.c.createConsumerGroup(project, logstore, new Sls.CreateConsumerGroupRequest({ consumerGroup: name, timeout, order }));
  }

  async listGroups(project, logstore) {
    return (await this.c.listConsumerGroup(project, logstore)).body;
  }

  updateGroup(project, logstore, name, timeout, order) {
    return this.c.updateConsumerGroup(project, logstore, name, new Sls.UpdateConsumerGroupRequest({ timeout, order }));
  }

  deleteGroup(project, logstore, name) {
    return this.c.deleteConsumerGroup(project, logstore, name);
  }

  async heartbeat(project, logstore, name, consumer, shards) {
    return (await this.c.consumerGroupHeartBeat(project, logstore, name, new Sls.ConsumerGroupHeartBeatRequest({ consumer, body: shards }))).body;
  }

  updateCheckpoint(project, logstore, name, consumer, shard, checkpoint, forceSuccess) {
    return this.c.consumerGroupUpdateCheckPoint(project, logstore, name,
      new Sls.ConsumerGroupUpdateCheckPointRequest({ consumer: consumer || undefined, shard, checkpoint, forceSuccess }));
  }

  async getCheckpoints(project, logstore, name, shard) {
    return (await this.c.getCheckPoint(project, logstore, name, new Sls.GetCheckPointRequest({ shard }))).body;
  }

  async listLogStores(project) {
    return (await this.c.listLogStores(project, new Sls.ListLogStoresRequest({}))).body;
  }

  async getLogStore(project, logstore) {
    return (await this.c.getLogStore(project, logstore)).body;
  }

  getLogs(project, logstore) {
    const now = Math.floor(Date.now() / 1000);
    return this.c.getLogs(project, logstore, new Sls.GetLogsRequest({ from: now - 3600, to: now, query: '*' }));
  }

  getProject(project) {
    return this.c.getProject(project);
  }
}

// --- the suite -------------------------------------------------------------

async function cursors(sdk, plan, shards) {
  const out = [];
  for (const s of shards) {
    const begin = await sdk.getCursor(plan.project, plan.logstore, s, 'begin');
    const end = await sdk.getCursor(plan.project, plan.logstore, s, 'end');
    const byTime = {};
    for (const t of plan.cursorTimes) {
      byTime[String(t)] = await sdk.getCursor(plan.project, plan.logstore, s, String(t));
    }
    const beginTime = Number(await sdk.getCursorTime(plan.project, plan.logstore, s, begin));
    out.push({ shard: s, begin, end, byTime, beginTime });
  }
  return out;
}

// pulls reads every shard whole, with and without end cursor, under each
// encoding.
async function pulls(sdk, plan, shardCursors) {
  const out = [];
  for (const sc of shardCursors) {
    for (const encoding of ['lz4', 'deflate', '']) {
      for (const withEnd of [true, false]) {
        let cursor = sc.begin;
        const groups = [];
        const compressTypes = new Set();
        let requests = 0;
        for (;;) {
          const r = await sdk.pull(plan.project, plan.logstore, sc.shard, cursor, withEnd ? sc.end : '', plan.pageCount, encoding);
          requests++;
          if (r.count !== r.groups.length) throw new Error(`x-log-count ${r.count} with ${r.groups.length} groups`);
          if (r.count === 0) {
            if (r.next !== cursor) throw new Error(`an empty answer moved the cursor from ${cursor} to ${r.next}`);
            break;
          }
          compressTypes.add(r.compressType);
          groups.push(...r.groups);
          cursor = r.next;
          if (withEnd && cursor === sc.end) break;
        }
        out.push({ shard: sc.shard, encoding, withEnd, groups, next: cursor, requests, compressTypes: [...compressTypes] });
      }
    }
  }
  return out;
}

async function consumerGroup(sdk, plan) {
  const { project, logstore } = plan;
  const name = `node-${sdk.name}`;
  const steps = {};
  steps.create = await attempt(() => sdk.createGroup(project, logstore, name, 60, false).then(() => null));
  steps.createAgain = await attempt(() => sdk.createGroup(project, logstore, name, 60, false).then(() => null));
  steps.update = await attempt(() => sdk.updateGroup(project, logstore, name, 3600, true).then(() => null));
  steps.list = await attempt(() => sdk.listGroups(project, logstore));
  steps.join = await attempt(() => sdk.heartbeat(project, logstore, name, 'c1', []));
  steps.hold = await attempt(() => sdk.heartbeat(project, logstore, name, 'c1', steps.join.ok ? steps.join.value : []));
  steps.checkpointConsumer = await attempt(() => sdk.updateCheckpoint(project, logstore, name, 'c1', 0, plan.checkpoints[0], false).then(() => null));
  steps.checkpointForced = await attempt(() => sdk.updateCheckpoint(project, logstore, name, '', 1, plan.checkpoints[1], true).then(() => null));
  steps.checkpointStranger = await attempt(() => sdk.updateCheckpoint(project, logstore, name, 'stranger', 0, plan.checkpoints[0], false).then(() => null));
  steps.checkpoints = await attempt(() => sdk.getCheckpoints(project, logstore, name));
  steps.checkpointShard1 = await attempt(() => sdk.getCheckpoints(project, logstore, name, 1));
  const tmp = name + '-tmp';
  steps.createTmp = await attempt(() => sdk.createGroup(project, logstore, tmp, 60, false).then(() => null));
  steps.deleteTmp = await attempt(() => sdk.deleteGroup(project, logstore, tmp).then(() => null));
  steps.deletedCheckpoints = await attempt(() => sdk.getCheckpoints(project, logstore, tmp));
  return { name, steps };
}

async function errors(sdk, plan) {
  const { project, logstore } = plan;
  const out = {};
  out.wrongSecret = await attempt(() => sdk.withCredentials(plan.accessKeyId, 'not-the-secret').listShards(project, logstore));
  out.unknownKey = await attempt(() => sdk.withCredentials('LTAI-nobody', plan.accessKeySecret).listShards(project, logstore));
  out.unknownProject = await attempt(() => sdk.listShards('no-such-project', logstore));
  out.unknownLogstore = await attempt(() => sdk.listShards(project, 'no-such-logstore'));
  out.shardOutOfRange = await attempt(() => sdk.getCursor(project, logstore, 99, 'begin'));
  out.badCursor = await attempt(() => sdk.getCursorTime(project, logstore, 0, 'notacursor'));
  out.query = await attempt(() => sdk.getLogs(project, logstore));
  out.unimplemented = await attempt(() => sdk.getProject(project));
  if (sdk.pull) {
    const begin = await sdk.getCursor(project, logstore, 0, 'begin');
    out.pullBadCursor = await attempt(() => sdk.pull(project, logstore, 0, 'notacursor', '', 10));
    out.pullCountOverLimit = await attempt(() => sdk.pull(project, logstore, 0, begin, '', 1001));
    out.pullShardOutOfRange = await attempt(() => sdk.pull(project, logstore, 99, begin, '', 10));
  }
  return out;
}

async function runClient(sdk, plan) {
  const r = { name: sdk.name };
  r.listShards = await sdk.listShards(plan.project, plan.logstore);
  const shards = r.listShards.map((s) => s.shardID);
  r.cursors = await cursors(sdk, plan, shards);
  if (sdk.pull) r.pulls = await pulls(sdk, plan, r.cursors);

  r.put = groupsToPut(sdk.name);
  const compressions = ['lz4', 'deflate', undefined];
  for (let i = 0; i < r.put.length; i++) {
    await sdk.put(plan.project, plan.putLogstore, r.put[i], compressions[i]);
  }

  r.logstores = { list: await sdk.listLogStores(plan.project), get: await sdk.getLogStore(plan.project, plan.logstore) };
  r.consumerGroup = await consumerGroup(sdk, plan);
  r.errors = await errors(sdk, plan);
  return r;
}

async function main() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  const plan = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const sdks = [
    new LogSDK(plan, plan.accessKeyId, plan.accessKeySecret),
    new SlsSDK(plan, 'v1', plan.accessKeyId, plan.accessKeySecret),
    new SlsSDK(plan, 'v4', plan.accessKeyId, plan.accessKeySecret),
  ];
  const report = { node: process.version, clients: {} };
  for (const sdk of sdks) {
    log(`suite: ${sdk.name}`);
    report.clients[sdk.name] = await runClient(sdk, plan);
  }
  process.stdout.write(JSON.stringify(report));
}

main().catch((e) => {
  log('suite failed:', e && e.stack ? e.stack : String(e));
  process.exitCode = 1;
});
