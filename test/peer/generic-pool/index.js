// generic-pool's tests `require('../')`: here that is cistern's generic-pool face,
// loaded through the package's `exports` map with `require` (Node's require(esm)).
module.exports = require('cistern/generic-pool');
