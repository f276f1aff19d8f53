// The interactive 3D preview on a version page: every `.viewer[data-model]` element gets a
// WebGL canvas showing its model (data-format: stl, obj, gltf or glb), framed and lit, that
// turns with the mouse or a finger. It draws only when something changes. Without WebGL
// (or JavaScript) the viewer stays empty and hidden, and the server-made thumbnail shows.
//
// three.js, and only the one loader the file needs, are imported once the page has loaded:
// the text, the licence and the pictures come first, and an STL never costs a glTF loader.
const LOADERS = {
  stl: () => import('./vendor/three/STLLoader.js').then((m) => new m.STLLoader()),
  obj: () => import('./vendor/three/OBJLoader.js').then((m) => new m.OBJLoader()),
  gltf: () => import('./vendor/three/GLTFLoader.js').then((m) => new m.GLTFLoader()),
  glb: () => import('./vendor/three/GLTFLoader.js').then((m) => new m.GLTFLoader()),
};
let THREE;
let OrbitControls;

const GREEN = 0x68b07a;
const BACKGROUND = 0xeef2ef;

function webglRenderer() {
  try {
    // preserveDrawingBuffer keeps the last picture readable (screenshots, toDataURL).
    return new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
  } catch (error) {
    return null;
  }
}

// Every loader's result as one object to add to the scene.
function toObject(format, loaded) {
  const material = new THREE.MeshStandardMaterial({ color: GREEN, roughness: 0.7, metalness: 0.05 });
  if (format === 'stl') {
    // Many STL files carry zero or wrong normals: flat ones from the faces themselves.
    loaded.computeVertexNormals();
    const mesh = new THREE.Mesh(loaded, material);
    mesh.rotation.x = -Math.PI / 2; // STL is Z-up; three.js is Y-up
    return mesh;
  }
  if (format === 'obj') {
    loaded.traverse((child) => { if (child.isMesh) child.material = material; });
    return loaded;
  }
  return loaded.scene;
}

function frame(object, camera, controls) {
  const box = new THREE.Box3().setFromObject(object);
  const center = box.getCenter(new THREE.Vector3());
  const size = box.getSize(new THREE.Vector3()).length() || 1;
  object.position.sub(center);
  const distance = size / (2 * Math.tan((camera.fov * Math.PI) / 360));
  camera.position.set(distance * 0.6, distance * 0.45, distance * 0.75);
  camera.near = size / 100;
  camera.far = size * 100;
  camera.updateProjectionMatrix();
  controls.target.set(0, 0, 0);
  controls.update();
}

function light(scene) {
  scene.add(new THREE.HemisphereLight(0xffffff, 0x8a9a8e, 1.6));
  const sun = new THREE.DirectionalLight(0xffffff, 2.2);
  sun.position.set(1, 2, 1.5);
  scene.add(sun);
}

async function show(element) {
  const load = LOADERS[element.dataset.format];
  if (!load) return;
  [THREE, { OrbitControls }] = await Promise.all([
    import('./vendor/three/three.module.js'),
    import('./vendor/three/OrbitControls.js'),
  ]);
  const renderer = webglRenderer();
  if (!renderer) return;
  const loader = await load();
  element.append(renderer.domElement);
  renderer.setPixelRatio(window.devicePixelRatio || 1);
  const scene = new THREE.Scene();
  scene.background = new THREE.Color(BACKGROUND);
  light(scene);
  const camera = new THREE.PerspectiveCamera(40, 4 / 3, 0.1, 1000);
  const controls = new OrbitControls(camera, renderer.domElement);
  const draw = () => renderer.render(scene, camera);
  const resize = () => {
    const width = element.clientWidth || 640;
    const height = element.clientHeight || Math.round((width * 3) / 4);
    renderer.setSize(width, height);
    camera.aspect = width / height;
    camera.updateProjectionMatrix();
    draw();
  };
  controls.addEventListener('change', draw);
  new ResizeObserver(resize).observe(element);
  resize();
  loader.load(
    element.dataset.model,
    (loaded) => {
      const object = toObject(element.dataset.format, loaded);
      scene.add(object);
      frame(object, camera, controls);
      element.dataset.rendered = 'yes';
      draw();
    },
    undefined,
    () => {
      // Nothing to show: give the place back to the thumbnail.
      renderer.domElement.remove();
      renderer.dispose();
      element.dataset.rendered = 'failed';
    },
  );
}

function start() {
  document.querySelectorAll('.viewer[data-model]').forEach((element) => {
    show(element).catch(() => { element.dataset.rendered = 'failed'; });
  });
}

if (document.readyState === 'complete') start();
else window.addEventListener('load', start, { once: true });
