// Registers every encoding. Order matters for writers: the first that accepts an element wins,
// so specific shapes (raw's { X, var, varm }) come before the catch-all dict.

import './dense.js';
import './sparse.js';
import './columns.js';
import './dataframe.js';
import './scalar.js';
import './awkward.js';
import './recarray.js';
import './anndata.js';
import './dict.js';
import '../raw.js';

export { ANNDATA_ENCODING, writeAnnDataChildren } from './anndata.js';
