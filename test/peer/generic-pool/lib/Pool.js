// test/utils.js (unchanged from upstream) requires '../lib/Pool' but never uses it;
// the face's Pool class stands in for generic-pool's.
module.exports = require('../').Pool;
