// Runs in every integration test file: whatever sidecar a file started and left running is stopped when it ends.
import { stopLeftoverSidecars } from './stack';

afterAll(async () => {
  const left = await stopLeftoverSidecars();

  if (left) console.warn(`stopped ${left} sidecar(s) this test file left running`);
});
