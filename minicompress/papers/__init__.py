"""One file per paper, the method only, written to be read beside the paper: the citation, the
idea, the equations in the paper's notation, then the method's functions and classes.

The experiments that reproduce each paper's claims live in :mod:`minicompress.reproductions`,
in a file of the same name. A paper file uses the engine and the machinery of its family
(``pruning``, ``quant``, ``factorize``) and never imports another paper file.
"""
