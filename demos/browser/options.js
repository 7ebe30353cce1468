// The page's options from its URL. ?threads=N (1..8) or ?threads=auto: each model runs on that many threads
// (loadModel's `threads`: the pthreads build, since serve.py makes the page cross-origin isolated; elsewhere
// loadModel falls back to one thread). Default 1: the dense-vs-sparse comparison is per core.
export function pageThreads() {
  const value = new URLSearchParams(location.search).get('threads');
  if (value === null || value === '') return 1;
  return value === 'auto' ? 'auto' : Number(value); // loadModel names a bad value (SB_ERR_ARGUMENT)
}

/** "1 thread" / "N threads" of a loaded model. */
export function threadsLabel(model) {
  return `${model.threads} thread${model.threads === 1 ? '' : 's'}`;
}
