/**
 * The model and batch the SAE kernel benchmarks time, at the sae-step shape (d 512, 4096
 * features, batch 1024): unit Gaussian decoder rows, the encoder tied to them, a Gaussian
 * batch, all from seed 0.
 */
import { Random } from '../src/shared/random';
import { zeroParameters, type SaeParameters } from '../src/worker/sae/parameters';
import { normalizeRows } from '../src/worker/sae/trainer';

export const D = 512;
export const F = 4096;
export const B = 1024;

export function benchModel(): { parameters: SaeParameters; batch: Float32Array } {
  const random = new Random(0);
  const parameters = zeroParameters(D, F);
  for (let i = 0; i < parameters.decoder.length; i++) parameters.decoder[i] = random.gaussian();
  normalizeRows(parameters.decoder, F, D);
  parameters.encoderT.set(parameters.decoder);
  const batch = Float32Array.from({ length: B * D }, () => random.gaussian());
  return { parameters, batch };
}
