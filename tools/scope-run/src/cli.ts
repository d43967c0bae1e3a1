import { runTool } from '@scope/core/run-api';
import { tool } from './command.js';
await runTool(tool);
