import { runTool } from '@scope/core';
import { detachTool } from './commands.js';
await runTool(detachTool);
