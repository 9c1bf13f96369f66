// The parts of ECharts the dashboard uses, exposed as the global `echarts` that
// charming's WasmRenderer calls. Built by scripts/build-echarts with esbuild from
// the npm packages in package-lock.json (the full bundle is 368 KB gzipped, this
// one about 181 KB). Every chart's legend is a plain one: the scroll legend
// (LegendComponent installs both) would add 1.7 KB gzipped to the first load.
import * as echarts from 'echarts/core';
import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendPlainComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([BarChart, LineChart, GridComponent, LegendPlainComponent, TooltipComponent, CanvasRenderer]);
window.echarts = echarts;
