/**
 * Method name -> MethodDefinition: the one place the training loop, the analysis pass and
 * reconstructions look a method up. Adding a method to METHODS breaks the build here until
 * it is registered.
 */
import type { Method, RunConfig } from '../../shared/methods';
import { completeIcaMethod } from '../ica/complete';
import { icaMethod } from '../ica/method';
import {
  saeBatchTopkMethod,
  saeJumpReluMethod,
  saeReluMethod,
  saeTopkMethod,
} from '../sae/methods';
import type { MethodDefinition } from './method';

const REGISTRY: { [M in Method]: MethodDefinition<Extract<RunConfig, { method: M }>> } = {
  ica: icaMethod,
  'ica-complete': completeIcaMethod,
  'sae-relu': saeReluMethod,
  'sae-topk': saeTopkMethod,
  'sae-batchtopk': saeBatchTopkMethod,
  'sae-jumprelu': saeJumpReluMethod,
};

/** The definition of `config`'s method, typed for any RunConfig. */
export function methodFor(config: RunConfig): MethodDefinition {
  return REGISTRY[config.method] as MethodDefinition;
}
