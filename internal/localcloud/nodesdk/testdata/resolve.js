'use strict';
// Name resolution for the local cloud, as the Go tests have it with a
// dialer: the SDKs address "<project>.<endpoint>" (the project is the first
// label of the Host, as on the service), and with the emulator's endpoint
// 127.0.0.1:PORT that name is "<project>.127.0.0.1", which no resolver
// knows. This maps every name ending in ".127.0.0.1" to 127.0.0.1 before
// the SDKs are loaded; the Host header they send is unchanged.
//
// It changes Node's resolver, not the SDKs: @alicloud/log would take an
// http.Agent with its own lookup per call, but @alicloud/sls20201230 (its
// HTTP layer @darabonba/typescript) takes no agent, so one resolver serves
// both the same way. Nothing leaves the loopback interface.

const dns = require('dns');

const lookup = dns.lookup;
dns.lookup = function localLookup(hostname, options, callback) {
  if (typeof options === 'function') {
    callback = options;
    options = {};
  }
  if (typeof hostname === 'string' && hostname.endsWith('.127.0.0.1')) {
    hostname = '127.0.0.1';
  }
  return lookup.call(dns, hostname, options, callback);
};
