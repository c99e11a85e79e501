// What other components may import from qr: the router, and the image and poster builders.
export { qrRouter } from './qr.routes';
export { counterQrPng, counterQrSvg, unitPosters } from './qr.service';
export { renderPostersPdf, shortUrl, type Poster } from './posters';
